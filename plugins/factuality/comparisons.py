"""Superlatives ("the fastest", "#1") and comparisons ("30% faster than version 2"), grouped
so that a paraphrase ("quickest") meets the approved wording ("fastest").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugins.factuality.names import is_heading
from plugins.factuality.quantities import NUM
from plugins.factuality.words import (
    COMPARATIVE_WORDS,
    NOT_COMPARATIVE,
    STOPWORDS,
    content_words,
    stem,
)

SUPERLATIVES = {
    "fast": r"fastest|quickest|speediest",
    "best": r"best|top-rated|top-ranked|highest-rated|finest|greatest|leading|industry-leading"
            r"|market-leading|world-leading|world-class|unmatched|unrivall?ed|unbeatable"
            r"|#\s?1|no\.\s?1|number\s+one|the\s+top",
    "easy": r"easiest|simplest|most\s+intuitive|most\s+user-friendly",
    "secure": r"safest|most\s+secure",
    "cheap": r"cheapest|lowest[- ]price[d]?|lowest[- ]cost|most\s+affordable",
    "large": r"largest|biggest",
    "first": r"(?:the|was|were|is|are)\s+first(?!\s+(?:year|month|week|day|time|step|page|few)s?\b)"
             r"|first\s+to\b",
    "only": r"the\s+only\b",
    "reliable": r"most\s+reliable",
    "powerful": r"most\s+powerful|strongest",
    "small": r"smallest|lightest",
}
SUPERLATIVE_RE = [(group, re.compile(r"(?<![\w-])(?:" + pattern + r")(?![\w-])", re.I))
                  for group, pattern in SUPERLATIVES.items()]
GENERIC_MOST_RE = re.compile(r"\bthe\s+(?:most|least)\s+(?P<adj>[a-z-]+)"
                             r"|\b(?P<est>[a-z]{3,}est)\b", re.I)
#: Words ending in -est that are not superlatives ("latest" dates rather than ranks).
NOT_SUPERLATIVE = frozenset("""
interest interests honest modest request suggest manifest harvest invest contest protest
digest arrest forest earnest priest conquest inquest behest attest detest tempest latest
guest quest chest west rest nest vest zest pest jest lest test biggest largest
""".split())
COMPARATIVE_RE = re.compile(
    r"(?P<mult>(?:" + NUM + r")\s?(?:x|×|times)|twice|three\s+times|two\s+times)?\s*"
    r"\bas\s+(?P<as_adj>[a-z]+)\s+as\b"
    r"|\b(?P<word>[a-z]+er)\s+than\b"
    r"|\b(?P<known>" + "|".join(sorted(COMPARATIVE_WORDS, key=len, reverse=True)) + r")\b"
    r"|\b(?P<moreless>more|less)\s+(?P<adj>[a-z-]+)(?:\s+[a-z-]+)?\s+than\b"
    r"|\b(?P<thanword>more|less|fewer)\s+than\s+(?![$€£~]|\d|about|around|nearly|almost"
    r"|approximately|roughly)"
    r"|\b(?P<fewer>fewer|less)\s+(?P<noun>[a-z-]+)"
    r"|\b(?P<verb>outperforms?|outperformed|beats?|compared\s+(?:with|to)|versus|vs\.?)(?!\w)",
    re.I)
TARGET_RE = re.compile(r"\b(?:than|compared\s+(?:with|to)|versus|vs\.?)\s+(?P<t>[^.,;:!?]{1,60})",
                       re.I)


@dataclass(frozen=True)
class Superlative:
    """A "best"/"fastest"/"#1" style claim, grouped so "quickest" matches "fastest"."""

    group: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Comparative:
    """A comparison: what improves (its group) and against what (its target words)."""

    group: str
    text: str
    start: int
    end: int
    target: frozenset[str] = frozenset()
    target_text: str = ""


def find_superlatives(sentence: str, offset: int = 0) -> list[Superlative]:
    """Superlative phrases in ``sentence``."""
    out: list[Superlative] = []
    for group, pattern in SUPERLATIVE_RE:
        for m in pattern.finditer(sentence):
            out.append(Superlative(group, m.group(), offset + m.start(), offset + m.end()))
    for m in GENERIC_MOST_RE.finditer(sentence):
        if m.group("est"):
            word = m.group("est").lower()
            if word in NOT_SUPERLATIVE or word.endswith(("ifest", "quest")):
                continue
            group = word[:-3] if not word.endswith("iest") else word[:-4] + "y"
        else:
            group = stem(m.group("adj"))
        out.append(Superlative(group, m.group(), offset + m.start(), offset + m.end()))
    kept: list[Superlative] = []
    for sup in sorted(out, key=lambda s: (s.start, -s.end)):
        inside = sup.start - offset
        if sup.text[:1].isupper() and sentence[:inside].strip() and not is_heading(sentence):
            continue  # "Allure's Best of Beauty award" is a title, not a ranking
        if not any(k.start < sup.end and sup.start < k.end for k in kept):
            kept.append(sup)
    return kept


def find_comparatives(sentence: str, offset: int = 0) -> list[Comparative]:
    """Comparisons in ``sentence``; "more than 12,000" is a bound, not a comparison."""
    out: list[Comparative] = []
    for m in COMPARATIVE_RE.finditer(sentence):
        g = m.groupdict()
        if g["as_adj"]:
            if not g["mult"]:
                continue  # "as fast as" without a multiplier compares nothing checkable
            group = stem(g["as_adj"])
        elif g["word"]:
            word = g["word"].lower()
            if word in NOT_COMPARATIVE or re.match(r"\s*(?:[$€£~]\s?)?\d",
                                                   sentence[m.end():]):
                continue  # "fewer than 10 clicks" is a bound on a figure
            group = COMPARATIVE_WORDS.get(word) or stem(re.sub(r"i?er$", "", word))
        elif g["known"]:
            if re.match(r"\s+than\s+(?:[$€£]\s?)?\d", sentence[m.end():]):
                continue
            group = COMPARATIVE_WORDS[g["known"].lower()]
        elif g["moreless"]:
            if g["adj"][0].isdigit():
                continue
            group = stem(g["adj"]) if g["moreless"].lower() == "more" else "decrease"
        elif g["thanword"]:
            group = "increase" if g["thanword"].lower() == "more" else "decrease"
        elif g["fewer"]:
            noun = g["noun"].lower()
            if noun in ("than", "of", "and", "or") or noun in STOPWORDS:
                continue
            group = "decrease"
        else:
            group = "*"
        if any(c.start <= offset + m.start() < c.end for c in out):
            continue
        target_text = ""
        phrase_end = m.end()
        if g["as_adj"]:
            target_text = re.split(r"[.,;:!?]", sentence[m.end():], maxsplit=1)[0].strip()
            phrase_end += len(sentence[m.end():]) - len(sentence[m.end():].lstrip()) + len(
                target_text)
        else:
            t = TARGET_RE.search(sentence, m.start())
            if t and (t.start() - m.end() < 40):
                target_text = t.group("t").strip()
                phrase_end = t.start("t") + len(target_text)
        start = m.start() + len(m.group()) - len(m.group().lstrip())
        out.append(Comparative(group, sentence[start:phrase_end], offset + start,
                               offset + phrase_end, _target_words(target_text), target_text))
    return out


def _target_words(text: str) -> frozenset[str]:
    words = {w for w, _, _ in content_words(text)}
    words |= set(re.findall(r"\b\d+(?:\.\d+)?\b", text))
    return frozenset(words - {"previous", "prior", "earlier", "old", "last", "did", "do", "was"})
