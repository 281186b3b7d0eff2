"""Model folders: pinning by content, resolving a ModelRef, and building demo models safely.

Part of the public facade (``from assay import …``). The registry pins local folders with
:func:`folder_revision`, and generators check that pin when they load through
:func:`resolve_source`, so both sides compute the same hash. :func:`build_model_folder`
is how a plugin builds a demo model without a reader ever seeing a half-written folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.plugins.contracts import ModelRef

_CHUNK = 1 << 20

#: Written last into a finished demo build; its contents decide whether to rebuild.
STAMP_NAME = "assay-demo.json"
UNKNOWN_LICENCE = "unknown (see the model card)"


def folder_revision(folder: str | Path) -> str:
    """A content hash of a folder: relative paths and bytes, in sorted order.

    The same files give the same hash on any machine, so a local model is pinned as
    exactly as a hub commit. Returned as ``sha256:<hex>``.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"model folder {root} does not exist")
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return "sha256:" + digest.hexdigest()


def read_stamp(folder: str | Path) -> dict[str, Any] | None:
    """The stamp of a finished demo build, or None (not a demo model, or unreadable)."""
    try:
        data = json.loads((Path(folder) / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def licence_from_card(folder: Path) -> str | None:
    """The ``license:`` line of a model card's front matter, when the folder has one."""
    try:
        card = (folder / "README.md").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if not card.startswith("---"):
        return None
    for line in card.split("\n---", 1)[0].splitlines()[1:]:
        key, _, value = line.partition(":")
        if key.strip() == "license" and value.strip():
            return value.strip().strip("'\"")
    return None


def is_local(source: str) -> bool:
    """A path (absolute, relative or ~) rather than a hub id like ``org/name``."""
    return source.startswith(("/", ".", "~")) or Path(source).expanduser().is_dir()


@dataclass
class ResolvedSource:
    """Where to load from, the revision actually loaded and its licence."""

    load_from: str
    local: bool
    revision: str | None
    licence: str
    kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. revision= for a hub id


def resolve_source(model_ref: ModelRef, *, missing_hint: str = "") -> ResolvedSource:
    """Check a ModelRef before loading it.

    A local folder must exist and, when a revision was pinned, still hash to it: the
    revision recorded on a job then really names the weights that produced it. A hub id
    is passed on with its pinned revision.

    Raises:
        FileNotFoundError: no such folder (``missing_hint`` says how to build it).
        ValueError: the folder changed since it was pinned.
    """
    if not is_local(model_ref.source):
        kwargs = {"revision": model_ref.revision} if model_ref.revision else {}
        return ResolvedSource(model_ref.source, False, model_ref.revision, UNKNOWN_LICENCE,
                              kwargs)
    folder = Path(model_ref.source).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"model folder {folder} does not exist{missing_hint}")
    actual = folder_revision(folder)
    if model_ref.revision and model_ref.revision != actual:
        raise ValueError(f"model folder {folder} has revision {actual}, but "
                         f"{model_ref.revision} was pinned")
    stamp = read_stamp(folder)
    licence = (str(stamp["licence"]) if stamp and "licence" in stamp
               else licence_from_card(folder) or UNKNOWN_LICENCE)
    return ResolvedSource(str(folder), True, actual, licence)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock where the platform has one (POSIX); otherwise nothing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_model_folder(target: str | Path, stamp: dict[str, Any],
                       build: Callable[[Path], None], *, force: bool = False) -> Path:
    """Build a model into ``target`` unless a build with the same ``stamp`` is there.

    ``build`` writes into a hidden sibling folder, which is renamed into place at the
    end, so a reader never sees a half-written model; a lock file serialises concurrent
    builders (two workers starting at once build once). Files are made world-readable
    (safetensors writes 0600). A folder that is not a stamped build is never replaced.
    """
    target = Path(target).absolute()
    if not force and read_stamp(target) == stamp:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock(target.parent / f".{target.name}.lock"):
        if not force and read_stamp(target) == stamp:  # another process just built it
            return target
        if target.exists() and read_stamp(target) is None and any(target.iterdir()):
            raise FileExistsError(f"{target} holds something other than a demo build; "
                                  "not replacing it")
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            build(tmp)
            (tmp / STAMP_NAME).write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n")
            for path in tmp.rglob("*"):
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
            os.chmod(tmp, 0o755)  # mkdtemp makes 0700
            if target.exists():
                old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
                target.rename(old)
                tmp.rename(target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target
