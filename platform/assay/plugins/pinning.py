"""Pinning local model folders by content, shared by the registry and the plugins.

Part of the public facade (``from assay import folder_revision``): a generator that
loads a local folder can check it still holds the revision that was registered.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def folder_revision(folder: str | Path) -> str:
    """A content hash of a folder: relative paths and bytes, in sorted order.

    The same files give the same hash on any machine, so a local model is pinned as
    exactly as a hub commit. Returned as ``sha256:<hex>``.
    """
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return "sha256:" + digest.hexdigest()
