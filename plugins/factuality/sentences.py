"""Sentences and clauses, each kept with its offsets into the original text.

The reviewer sees verdicts highlighted in place, so every sentence (and every independent
clause of a compound sentence) keeps its ``[start, end)`` span in the ORIGINAL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Abbreviations after which a period never ends a sentence.
NEVER_END = frozenset({
    "e.g", "i.e", "eg", "ie", "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "cf",
    "approx", "fig", "no", "nos", "ca", "est", "dept", "ref", "vol", "p", "pp",
})
#: Abbreviations that end a sentence only when a capitalised word follows.
MAYBE_END = frozenset({
    "inc", "ltd", "corp", "co", "llc", "plc", "gmbh", "etc", "u.s", "u.k", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu",
    "fri", "sat", "sun",
})
END_RE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)")
LIST_MARKER_RE = re.compile(r"^(?:#{1,6}|[-*•–—]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")


@dataclass(frozen=True)
class Sentence:
    """One sentence with its place in the original text (``text == original[start:end]``)."""

    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Split at sentence ends and line breaks, keeping offsets into ``text``.

    Line breaks always split, because marketing copy is full of headings and bullets
    without closing punctuation; periods inside numbers, prices and abbreviations do not.
    """
    out: list[Sentence] = []
    line_start = 0
    for line in text.split("\n"):
        pos = 0
        for m in END_RE.finditer(line):
            if line[pos:m.start()].strip().isdigit():  # "1." numbering a list item
                continue
            if not _ends_sentence(line, m):
                continue
            _add_sentence(out, text, line_start + pos, line_start + m.end())
            pos = m.end()
        _add_sentence(out, text, line_start + pos, line_start + len(line))
        line_start += len(line) + 1
    return out


def _ends_sentence(line: str, m: re.Match[str]) -> bool:
    rest = line[m.end():].lstrip()
    if rest and rest[0].islower():
        return False
    if m.group()[0] != "." or len(m.group().rstrip("\"'”’)]")) > 1:
        return True
    before = re.search(r"(\S+)$", line[: m.start()])
    word = before.group(1).lower().lstrip("(\"'“‘") if before else ""
    if word in NEVER_END:
        return False
    if len(word) == 1 and word.isalpha():  # an initial, as in "J. Smith"
        return False
    if word in MAYBE_END or ("." in word and word.replace(".", "").isalpha()):
        return bool(rest) and rest[0].isupper()
    return True


def _add_sentence(out: list[Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    lead = len(chunk) - len(chunk.lstrip())
    start += lead
    marker = LIST_MARKER_RE.match(text[start:end])
    if marker:
        start += marker.end()
    chunk = text[start:end]
    end = start + len(chunk.rstrip())
    if any(ch.isalnum() for ch in text[start:end]):
        out.append(Sentence(text[start:end], start, end))

CLAUSE_BREAK_RE = re.compile(r",\s*(?:and|but|so|while|whereas|plus)\s+|;\s*|\s+[—–]\s+")


def clauses(sentence: str) -> list[str]:
    """The parts of a compound sentence ("..., and ..."), when there are several.

    A sentence about two things resembles neither fact closely; its clauses each do.
    """
    parts = [p.strip() for p in CLAUSE_BREAK_RE.split(sentence)]
    parts = [p for p in parts if len(p.split()) >= 3]
    return parts if len(parts) > 1 else []


#: "and", "but" … joining two clauses ("…, and it costs $10"), with or without a comma.
COORDINATOR_RE = re.compile(r"(?:\s*,\s*|\s+)(?:and|but|while|whereas|plus|so)\s+")
#: A clause whose subject is one of these borrows its subject from the clause before.
PRONOUN_SUBJECTS = frozenset({"it", "they", "we", "you", "he", "she", "there"})
DETERMINERS = frozenset({"the", "our", "your", "its", "their", "every", "each", "this",
                         "that", "these", "those", "all"})
AUXILIARIES = frozenset("""
is are was were has have had can could will would does did may might must shall should
""".split())


def _is_verb(word: str) -> bool:
    """A crude finite-verb test ("costs", "lasts", "launched", "is"); nouns slip through,
    which only makes a split more likely when the words after also hold a figure."""
    w = word.strip(",;:.!?\"'“”‘’()")
    if w.lower() in AUXILIARIES:
        return True
    return w.isalpha() and w.islower() and len(w) > 2 and (
        w.endswith("ed") or (w.endswith("s") and not w.endswith(("ss", "us", "is"))))


def starts_clause(rest: str) -> bool:
    """Whether ``rest`` (what follows "and"/"but") opens a clause of its own, with a
    subject and a verb: "it costs $10", "the plan costs $10", "Nimbus Vault keeps …".

    "… and syncs across 5 devices" (no subject) or "… and 75 other apps" (a list) do not:
    they go on with the clause before.
    """
    words = rest.split()
    if len(words) < 2:
        return False
    first = words[0].lower()
    if first in PRONOUN_SUBJECTS:
        return words[1].isalpha()
    if first in DETERMINERS:
        begin = 2
    elif words[0][:1].isupper():
        begin = 1
    else:
        return False
    return any(_is_verb(w) for w in words[begin:begin + 3])


def borrows_subject(clause: str) -> bool:
    """Whether the clause starts with a pronoun ("it costs $10"): its subject is elsewhere."""
    first = clause.split(maxsplit=1)[0].lower() if clause.split() else ""
    return first in PRONOUN_SUBJECTS


def independent_clauses(sentence: Sentence) -> list[Sentence]:
    """The independent clauses of a compound sentence, with offsets into the ORIGINAL text;
    an empty list when the sentence is one clause.

    "The battery lasts 24 hours and it costs $10." → "The battery lasts 24 hours" and "it
    costs $10.". Only coordinators followed by a subject and a verb split, so lists ("Slack,
    Teams and 75 other apps") and shared subjects ("keeps 90 days … and syncs across 5
    devices") stay whole.
    """
    text = sentence.text
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in COORDINATOR_RE.finditer(text):
        left, rest = text[start:m.start()], text[m.end():]
        if (len(left.split()) >= 3 and len(rest.split()) >= 3 and starts_clause(rest)
                and any(_is_verb(w) for w in left.split()[1:])):
            bounds.append((start, m.start()))
            start = m.end()
    if not bounds:
        return []
    bounds.append((start, len(text)))
    return [Sentence(text[a:b], sentence.start + a, sentence.start + b) for a, b in bounds]
