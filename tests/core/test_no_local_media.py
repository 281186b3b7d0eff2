"""Media is read and written only through the storage API, never as local files.

Assets, signed files and sidecars may live in an S3 bucket (ASSAY_MEDIA_STORAGE=s3), where
there is no path to open: ``FieldFile.path`` and ``storage.path()`` raise there, and
``MEDIA_ROOT`` is not where the bytes are. Public URLs are out too: downloads go through
Assay's permission-checked views (``governance.provenance.downloads``), so nothing may hand
out ``.url`` of a file field or a storage. This AST scan keeps a later change from bringing
any of them back; tests/provenance/test_s3_storage.py runs the real path against S3.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("platform/assay", "governance", "plugins")
#: The settings modules are where MEDIA_ROOT is defined; nothing else reads it.
SETTINGS_FILES = {"platform/assay/settings.py", "platform/assay/test_settings.py",
                  "platform/assay/conf.py"}
LOCAL_ONLY = {"path", "url"}  # attributes that only a filesystem (or public bucket) has
FILE_NAMES = {"file", "sidecar", "field", "field_file", "fieldfile"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_media_holder(node: ast.AST) -> bool:
    """A file field (``asset.file``, ``row.sidecar``, ``field``) or a storage."""
    name = _name(node).lower()
    return name in FILE_NAMES or name.endswith(("storage", "_file"))


def _is_getattr(node: ast.AST, *, settings_file: bool) -> bool:
    """``getattr(asset.file, "path")`` or ``getattr(settings, "MEDIA_ROOT")``."""
    if not (isinstance(node, ast.Call) and _name(node.func) == "getattr"
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
        return False
    attr = node.args[1].value
    if attr == "MEDIA_ROOT":
        return not settings_file
    return attr in LOCAL_ONLY and _is_media_holder(node.args[0])


def offences(source: str, *, settings_file: bool = False) -> list[tuple[int, str]]:
    """Where ``source`` treats media as local files, as (line, what)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in LOCAL_ONLY and (
                _is_media_holder(node.value)):
            found.append((node.lineno, f"{_name(node.value)}.{node.attr}"))
        elif not settings_file and _name(node) == "MEDIA_ROOT" and isinstance(
                node, ast.Name | ast.Attribute):
            found.append((node.lineno, "MEDIA_ROOT"))
        elif _is_getattr(node, settings_file=settings_file):
            found.append((node.lineno, f"getattr(..., {node.args[1].value!r})"))
    return found


def test_no_code_treats_media_as_local_files():
    bad = []
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if "/migrations/" in rel or "/tests/" in rel:
                continue
            bad += [f"{rel}:{line} uses {what}" for line, what in
                    offences(path.read_text(), settings_file=rel in SETTINGS_FILES)]
    assert not bad, ("media must go through the storage API (open/save/exists/listdir/"
                     "delete), never a local path or a public URL:\n" + "\n".join(bad))


def test_the_scan_catches_each_way_of_assuming_local_files():
    source = "\n".join([
        "open(asset.file.path)",
        "Path(signed.sidecar.path).read_bytes()",
        "default_storage.path(name)",
        "field.storage.path(field.name)",
        "asset.file.url",
        "os.path.join(settings.MEDIA_ROOT, name)",
        "getattr(settings, 'MEDIA_ROOT')",
        "getattr(asset.file, 'path')",
    ])
    assert sorted(line for line, _ in offences(source)) == list(range(1, 9))


def test_the_scan_leaves_storage_api_calls_and_other_paths_alone():
    source = "\n".join([
        "with asset.file.open('rb') as handle: handle.read()",
        "default_storage.save(name, ContentFile(data))",
        "field.storage.delete(field.name)",
        "storage.listdir(folder)",
        "request.path",
        "urlsplit(url).path",
        "sys.path",
    ])
    assert offences(source) == []
    assert offences("MEDIA_ROOT = path_setting('MEDIA_ROOT', x)", settings_file=True) == []
