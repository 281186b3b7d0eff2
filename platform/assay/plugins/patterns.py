"""Owner-written patterns (the ``regex:<pattern>`` disclaimer trigger), run on RE2.

Python's ``re`` backtracks: ``(a|a)+$`` held the only worker for 19 s on 26 characters,
doubling with each one more. RE2 matches in time linear in the text for every pattern it
accepts, because it has no backreferences or lookarounds; a pattern that needs them is
refused with what to write instead. The brand kit checks a pattern with
:func:`compile_owner_pattern` when an owner saves it, and the disclaimer check compiles it
with the same function when it runs, so the two never disagree.

Patterns written by Assay itself stay on ``re``: they are reviewed code, not input.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import re2

#: Longest owner pattern accepted: it bounds the compiled program, and the messages.
MAX_OWNER_PATTERN = 200
#: Matches looked at per pattern and text. Each search is linear, but a pattern such as
#: ``a.*z|a`` rescans the rest of the text for every match it finds; the cap keeps the
#: whole scan within a fixed multiple of one pass. A trigger needs only its first match,
#: and evidence shows 20.
MAX_PATTERN_MATCHES = 1000

#: RE2's refusals (the start of its error text) and what the owner should write instead.
_ADVICE: tuple[tuple[str, str], ...] = (
    ("invalid perl operator: (?=",
     "uses a lookahead (?=...), which Assay's linear-time matcher cannot run: match the "
     "following text itself, or use \\b for a word boundary"),
    ("invalid perl operator: (?!",
     "uses a negative lookahead (?!...), which Assay's linear-time matcher cannot run: "
     "match the text you expect instead, or use \\b for a word boundary"),
    ("invalid perl operator: (?<=",
     "uses a lookbehind (?<=...), which Assay's linear-time matcher cannot run: match the "
     "preceding text itself, or use \\b for a word boundary"),
    ("invalid perl operator: (?<!",
     "uses a negative lookbehind (?<!...), which Assay's linear-time matcher cannot run: "
     "match the text you expect instead, or use \\b for a word boundary"),
    ("invalid perl operator: (?>",
     "uses an atomic group (?>...), which is not needed here (matching never backtracks): "
     "write a plain group (?:...)"),
    ("invalid escape sequence: \\Z",
     "uses \\Z: write \\z for the end of the text"),
    ("invalid repetition size",
     "repeats more than 1000 times: use a smaller count such as {1,100}"),
    ("pattern too large",
     "is too large once compiled: use fewer or smaller counted repetitions"),
)
_BACKREFERENCE = re.compile(r"invalid escape sequence: \\[0-9]")
_POSSESSIVE = re.compile(r"bad repetition operator: [*+?}]\+")
_SURROGATE = re.compile("[\ud800-\udfff]")

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False  # disclaimer triggers always ignored case
_OPTIONS.log_errors = False  # a refused pattern is a message for the owner, not a log line


class OwnerPattern:
    """An owner's pattern compiled by RE2 (``engine == "re2"``), case-insensitive."""

    engine = "re2"

    def __init__(self, source: str, compiled: Any) -> None:
        self.source = source
        self.compiled = compiled

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``[start, end)`` of each non-empty match in ``text``, at most the first
        :data:`MAX_PATTERN_MATCHES` matches looked at."""
        matches = self.compiled.finditer(_SURROGATE.sub("\ufffd", text))
        return [m.span() for m in itertools.islice(matches, MAX_PATTERN_MATCHES)
                if m.end() > m.start()]


def compile_owner_pattern(pattern: str) -> tuple[OwnerPattern | None, str | None]:
    """The compiled pattern, or ``None`` and why it is refused, in words an owner can act on.

    The reason completes "pattern '…' …", e.g. "uses a lookahead (?=...), which ...".
    """
    if not pattern:
        return None, "is empty: write the text to look for"
    if len(pattern) > MAX_OWNER_PATTERN:
        return None, f"is longer than {MAX_OWNER_PATTERN} characters"
    if _SURROGATE.search(pattern) or "\x00" in pattern:
        return None, "contains a character that is not text (a NUL or lone surrogate)"
    try:
        return OwnerPattern(pattern, re2.compile(pattern, _OPTIONS)), None
    except re2.error as exc:
        return None, _reason(pattern, exc)


def _reason(pattern: str, exc: Exception) -> str:
    raw = exc.args[0] if exc.args else ""
    error = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if _BACKREFERENCE.match(error) or (error.startswith("invalid perl operator: (?P")
                                       and "(?P=" in pattern):
        return ("uses a backreference such as \\1 or (?P=name), which Assay's linear-time "
                "matcher cannot run: write the repeated text out instead")
    if _POSSESSIVE.match(error):
        return ("uses a possessive quantifier such as a++, which is not needed here "
                "(matching never backtracks): write a+ instead")
    for start, advice in _ADVICE:
        if error.startswith(start):
            return advice
    return f"is not a valid regular expression ({error[:120]})"
