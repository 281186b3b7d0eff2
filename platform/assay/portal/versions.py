"""Compare two versions of an asset: a word-level text diff for the compare partial.

The diff is computed with the standard library's :mod:`difflib` over words *and* the
whitespace between them, so joining the pieces of one side gives that side back exactly
(line breaks kept). Pages render it with ``<ins>``/``<del>`` (``portal/_compare.html``).
"""

from __future__ import annotations

import difflib
import re

__all__ = ("ADDED", "REMOVED", "SAME", "text_diff")

SAME = "same"
ADDED = "added"
REMOVED = "removed"

#: A word or a run of whitespace: the units the diff works in.
_TOKENS = re.compile(r"\s+|[^\s]+")


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text or "")


def _push(out: list[tuple[str, str]], op: str, text: str) -> None:
    """Append, merging with the previous piece when it has the same op (fewer tags)."""
    if not text:
        return
    if out and out[-1][0] == op:
        out[-1] = (op, out[-1][1] + text)
    else:
        out.append((op, text))


def text_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level changes from ``old`` to ``new`` as ``(op, text)`` pieces.

    ``op`` is ``"same"``, ``"added"`` or ``"removed"``. The ``same`` and ``removed`` pieces
    joined give ``old``; the ``same`` and ``added`` pieces joined give ``new``. A replaced
    run is given as its removal followed by its addition, so a reader sees what went and
    what came in its place.

    Args:
        old: the earlier version's text.
        new: the later version's text.
    """
    a, b = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _push(out, SAME, "".join(a[i1:i2]))
            continue
        if tag in ("delete", "replace"):
            _push(out, REMOVED, "".join(a[i1:i2]))
        if tag in ("insert", "replace"):
            _push(out, ADDED, "".join(b[j1:j2]))
    return out
