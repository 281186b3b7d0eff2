"""Length and readability: word count and Flesch-Kincaid grade against the template's targets."""

from __future__ import annotations

import re

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.quality_checks.wording import plural, subject_text

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)|\n")


def count_syllables(word: str) -> int:
    """English syllables by vowel groups with the usual silent-e, -es, -ed and hiatus fixes.

    Good to about one syllable per long word, which is all a grade level needs.
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 0
    if len(w) <= 3:
        return 1
    count = len(re.findall(r"[aeiouy]+", w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")):
        count -= 1  # make, shape: silent e ("table", "agree" keep theirs)
    elif w.endswith("es") and not re.search(r"(?:[sxzcg]|[cs]h)es$", w):
        count -= 1  # makes, tones ("boxes", "pages" keep theirs)
    elif w.endswith("ed") and not w.endswith(("ted", "ded")):
        count -= 1  # jumped ("wanted" keeps it)
    # Two vowels heard apart: media, actual, radio (but social, quality, nation).
    count += len(re.findall(r"(?<![ct])ia|(?<![qg])ua|io(?![nu])", w))
    return max(1, count)


def _sentences(text: str) -> list[tuple[int, int]]:
    """Spans of sentences: ended by . ! ? … or a line break (headlines and bullets)."""
    spans = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if _WORD.search(text, start, m.end()):
            spans.append((start, m.end()))
        start = m.end()
    if _WORD.search(text, start):
        spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        chunk = text[s:e]
        lead = len(chunk) - len(chunk.lstrip())
        trimmed.append((s + lead, s + len(chunk.rstrip())))
    return trimmed


def flesch_kincaid_grade(text: str) -> float | None:
    """Flesch–Kincaid grade level (at least 0); None for text without words."""
    sentences = _sentences(text)
    words = [w for w in _WORD.findall(text) if re.search(r"[A-Za-z]", w)]
    if not words or not sentences:
        return None
    syllables = sum(count_syllables(w) for w in words)
    grade = 0.39 * len(words) / len(sentences) + 11.8 * syllables / len(words) - 15.59
    return max(0.0, grade)  # very short, plain sentences give negative grades: call it 0


class LengthReadabilityCheck(Check):
    """Word count and Flesch–Kincaid grade against the template's targets."""

    id = "length-readability"
    modalities = ("text",)
    version = "1.0"
    description = ("Compares the word count with the template's minimum and maximum and "
                   "the Flesch–Kincaid grade with its readability target.")
    default_severity = "low"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Warn when out of target; the score is the grade level."""
        text = subject_text(subject)
        n_words = len(_WORD.findall(text))
        grade = flesch_kincaid_grade(text)
        score = round(grade, 2) if grade is not None else None
        shown = f"grade {grade:.1f}" if grade is not None else "no readable sentences"
        described = f"{plural(n_words, 'word')}, {shown}"
        if context.min_words is None and context.max_words is None and context.max_grade is None:
            return CheckOutcome("pass", "info", score,
                                f"no length or readability targets set; {described}")
        whole = (0, len(text))
        evidence = []
        if context.min_words is not None and n_words < context.min_words:
            evidence.append(Evidence(
                f"{plural(n_words, 'word')}; the target is at least {context.min_words}",
                span=whole, data={"words": n_words, "min_words": context.min_words}))
        if context.max_words is not None and n_words > context.max_words:
            evidence.append(Evidence(
                f"{plural(n_words, 'word')}; the target is at most {context.max_words}",
                span=whole, data={"words": n_words, "max_words": context.max_words}))
        if context.max_grade is not None and grade is not None and grade > context.max_grade:
            sentences = _sentences(text)
            longest = max(sentences, key=lambda s: len(_WORD.findall(text[s[0]:s[1]])))
            evidence.append(Evidence(
                f"reading grade {grade:.1f} is above the target {context.max_grade:g}; "
                f"the longest sentence has {len(_WORD.findall(text[slice(*longest)]))} words",
                span=longest, data={"grade": round(grade, 2), "max_grade": context.max_grade}))
        if evidence:
            return CheckOutcome("warn", self.default_severity, score,
                                f"outside the template's targets: {described}", evidence)
        return CheckOutcome("pass", "info", score, f"within the template's targets: {described}")
