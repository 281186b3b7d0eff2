"""Whole-word, inflection-aware term matching shared by the banned-terms and profanity checks.

Brand kits list base forms ("cheap", "best in class"); copy uses inflected ones ("Cheaper",
"best-in-class"). Rather than asking every project to enumerate forms, each word of a term
is expanded into its simple English inflections and the whole term is matched with word
boundaries on both sides, case-insensitively.

What "whole word" means here: a hit must not start or end inside a longer word. The only
longer words accepted are the inflections below, so "cheap" hits "cheaper", "Cheapest" and
"cheap's" but never "cheapskate"; derivations such as "cheaply" are not inflections and do
not hit either (list them as terms of their own). Hyphens count as word boundaries, so
"cheap" hits "cheap-looking".

Inflections generated for each alphabetic word of three letters or more: plural and third
person (-s, -es after s/x/z/ch/sh/o, consonant+y -> -ies), past (-ed, -d after e, y -> -ied),
-ing (dropping a final e), comparative and superlative (-er/-est, -r/-st after e, y -> -ier/
-iest), with final-consonant doubling for consonant-vowel-consonant endings ("big" ->
"bigger"), and a possessive 's (or ’s) after any form. Shorter words, numbers and words
with symbols match exactly: inflecting "in" or "of" inside a phrase would only add noise.
Words of a multi-word term may be separated by any run of whitespace or hyphens.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

_VOWELS = frozenset("aeiou")
#: Final consonants that are never doubled before a suffix ("fix" -> "fixed", "play" -> ...).
_NO_DOUBLE = frozenset("wxy")
#: Between the words of a phrase: any whitespace or hyphens ("best in class", "best-in-class").
_SEPARATOR = r"[\s\-\u2010\u2011]+"
_POSSESSIVE = r"(?:['\u2019]s)?"
#: Terms longer than this are ignored: nobody bans a paragraph, and it bounds regex size.
MAX_TERM_LENGTH = 200


@dataclass(frozen=True)
class TermHit:
    """One occurrence of a term in a text: ``text[start:end] == matched``."""

    term: str
    start: int
    end: int
    matched: str


def _is_cvc(word: str) -> bool:
    """Whether the word ends consonant-vowel-consonant, the shape that doubles ("stop")."""
    if len(word) < 3:
        return False
    a, b, c = word[-3], word[-2], word[-1]
    return a not in _VOWELS and b in _VOWELS and c not in _VOWELS and c not in _NO_DOUBLE


def word_forms(word: str) -> frozenset[str]:
    """The word and its simple English inflections, lower-cased (see the module docstring).

    Over-generating is harmless (a form nobody writes never matches), so the rules are
    deliberately simple rather than a full morphological analyser.
    """
    w = word.lower()
    forms = {w}
    if len(w) < 3 or not w.isalpha():
        return frozenset(forms)
    consonant_y = w.endswith("y") and w[-2] not in _VOWELS
    # Plural and third person singular.
    if w.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(w + "es")
    elif consonant_y:
        forms.add(w[:-1] + "ies")
    else:
        forms.add(w + "s")
    if w.endswith("o"):
        forms.add(w + "es")
    # Past tense, -ing, comparative and superlative.
    if w.endswith("e"):
        forms.update({w + "d", w[:-1] + "ing", w + "r", w + "st"})
    elif consonant_y:
        stem = w[:-1]
        forms.update({stem + "ied", w + "ing", stem + "ier", stem + "iest"})
    else:
        stems = {w, w + w[-1]} if _is_cvc(w) else {w}
        for stem in stems:
            forms.update({stem + "ed", stem + "ing", stem + "er", stem + "est"})
    return frozenset(forms)


def _word_pattern(word: str) -> str:
    forms = sorted(word_forms(word), key=lambda f: (-len(f), f))  # longest first
    return "(?:" + "|".join(re.escape(f) for f in forms) + ")"


@functools.lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str] | None:
    """The compiled pattern for one term, or None for an empty or over-long term.

    Cached: brand kits are small and stable, and checks run for every asset version.
    """
    words = term.split()
    if not words or len(term) > MAX_TERM_LENGTH:
        return None
    body = _SEPARATOR.join(_word_pattern(w) for w in words) + _POSSESSIVE
    # Boundaries only where the term itself starts or ends with a word character: a term
    # such as "#1" or "100%" has no word boundary to respect on its symbol side.
    start = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    end = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    return re.compile(start + body + end, re.IGNORECASE)


class TermMatcher:
    """Finds every occurrence of a set of terms in a text, whole-word and inflection aware."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms: list[str] = []
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        seen: set[str] = set()
        for term in terms:
            key = " ".join(term.split()).lower()
            pattern = term_pattern(" ".join(term.split()))
            if pattern is None or key in seen:
                continue
            seen.add(key)
            self.terms.append(term)
            self._patterns.append((term, pattern))

    def find(self, text: str) -> list[TermHit]:
        """Every hit of every term, ordered by position (then longest first)."""
        hits = [
            TermHit(term, m.start(), m.end(), m.group(0))
            for term, pattern in self._patterns
            for m in pattern.finditer(text)
        ]
        hits.sort(key=lambda h: (h.start, -(h.end - h.start), h.term))
        return hits


def drop_contained(hits: list[TermHit]) -> list[TermHit]:
    """Keep the longest hit where terms overlap ("cheap deals" swallows "cheap" inside it)."""
    kept: list[TermHit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if any(k.start <= hit.start and hit.end <= k.end for k in kept):
            continue
        kept.append(hit)
    return kept
