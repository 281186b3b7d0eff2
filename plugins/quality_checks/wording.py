"""How the text checks read a subject's text and word their one-line messages."""

from __future__ import annotations

from collections.abc import Iterable

from assay import CheckSubject


def subject_text(subject: CheckSubject) -> str:
    """The subject's text; bytes are decoded leniently so a stray byte never raises."""
    if subject.text is not None:
        return subject.text
    if subject.data is not None:
        return subject.data.decode("utf-8", errors="replace")
    return ""


def quote(text: str, limit: int = 60) -> str:
    """Single-quoted and shortened, for messages that must stay one line."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"'{text}'"


def or_list(items: Iterable[str]) -> str:
    """'a', 'b' or 'c': each item quoted, for advice such as "say 'fair' or 'low-cost'"."""
    quoted = [quote(i) for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def plural(n: int, word: str, many: str | None = None) -> str:
    """Count and noun: "1 word", "2 words" (``many`` when the plural is not word + s)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
