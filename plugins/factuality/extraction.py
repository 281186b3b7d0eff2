"""Check-worthy claims: the sentences of a text that state something a fact could support.

Kept free of torch so the web process and the unit tests can split and parse text without
loading a model. Every claim keeps its ``[start, end)`` span in the ORIGINAL text, because
the reviewer sees verdicts highlighted in place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from plugins.factuality.comparisons import (
    Comparative,
    Superlative,
    find_comparatives,
    find_superlatives,
)
from plugins.factuality.names import find_names, is_heading
from plugins.factuality.quantities import Quantity, find_quantities
from plugins.factuality.sentences import (
    Sentence,
    borrows_subject,
    independent_clauses,
    split_sentences,
)

QUESTION_WORDS = frozenset({"why", "how", "what", "who", "when", "where", "which"})
SUBJECT_VERBS = frozenset("""
is are was were has have had can could will would does did may might must shall should
""".split())
CALL_TO_ACTION = frozenset("""
meet try get start join discover see learn find explore download sign book say talk ask
contact visit call read upgrade stay subscribe follow register request watch check
""".split())


@dataclass
class Claim:
    """A check-worthy sentence and what makes it one, with offsets into the original text."""

    sentence: str
    start: int
    end: int
    quantities: list[Quantity] = field(default_factory=list)
    superlatives: list[Superlative] = field(default_factory=list)
    comparatives: list[Comparative] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    #: The whole sentence, when this claim is one clause of it that borrows its subject
    #: ("it costs $10"): the embedding also compares the sentence, which names the subject.
    context: str = ""

    @property
    def span(self) -> tuple[int, int]:
        """[start, end) in the original text."""
        return self.start, self.end

    @property
    def kinds(self) -> tuple[str, ...]:
        """What makes the sentence check-worthy, e.g. ("percentage", "comparative")."""
        kinds = [q.kind for q in self.quantities]
        if self.superlatives:
            kinds.append("superlative")
        if self.comparatives:
            kinds.append("comparative")
        if self.names:
            kinds.append("product")
        return tuple(dict.fromkeys(kinds))


def parse_sentence(sentence: Sentence, known_names: Iterable[str] = ()) -> Claim:
    """Everything checkable in one sentence (the result may hold nothing)."""
    text, base = sentence.text, sentence.start
    names = find_names(text, known_names, base)
    quantities = find_quantities(text, base, [(s - base, e - base) for _, s, e in names])
    return Claim(text, sentence.start, sentence.end, quantities, find_superlatives(text, base),
                 find_comparatives(text, base), list(dict.fromkeys(n for n, _, _ in names)))


def extract_claims(text: str, known_names: Iterable[str] = ()) -> list[Claim]:
    """Check-worthy claims in ``text``: one per sentence that holds something checkable,
    or one per clause when two or more clauses of a compound sentence each do.

    "The battery lasts 24 hours and it costs $10." is two claims, each with its own span,
    because one may be true and the other false: judged as one sentence, the right figure
    in one clause would hide the wrong one in the other from the reviewer.

    A sentence whose only checkable part is a name counts when the name is the subject
    of a verb, and never when it is a question, a heading or a call to action ("Meet
    Nimbus Sync."), which state nothing a fact could support.
    """
    known = list(known_names)
    claims = []
    for sentence in split_sentences(text):
        parts = [(clause, parse_sentence(clause, known))
                 for clause in independent_clauses(sentence)]
        worthy = [(clause, claim) for clause, claim in parts
                  if _check_worthy(clause, claim, known)]
        if len(worthy) >= 2:
            names = list(dict.fromkeys(n for _, claim in parts for n in claim.names))
            for clause, claim in worthy:
                if borrows_subject(clause.text):
                    claim.context = sentence.text
                    claim.names = claim.names or names
                claims.append(claim)
            continue
        claim = parse_sentence(sentence, known)
        if _check_worthy(sentence, claim, known):
            claims.append(claim)
    return claims


def _check_worthy(sentence: Sentence, claim: Claim, known: Sequence[str]) -> bool:
    """A figure, superlative or comparison; or a named product that says something."""
    if claim.quantities or claim.superlatives or claim.comparatives:
        return True
    return bool(claim.names) and not _states_nothing(sentence.text) and _says_something_about(
        sentence, find_names(sentence.text, known, sentence.start))


def _states_nothing(sentence: str) -> bool:
    """Questions, calls to action and headings, which assert nothing about a product."""
    first = re.match(r"[A-Za-z]+", sentence)
    word = first.group().lower() if first else ""
    return sentence.rstrip().endswith("?") or word in CALL_TO_ACTION or word in QUESTION_WORDS \
        or is_heading(sentence)


def _says_something_about(sentence: Sentence, names: Sequence[tuple[str, int, int]]) -> bool:
    """Whether a named product is the subject of a verb ("Nimbus Vault encrypts ...").

    "That's why we built Nimbus Sync." names a product but tells nothing a fact could
    support; without this, every mention of a product would go to the reviewer.
    """
    for _, _, end in names:
        after = sentence.text[end - sentence.start:]
        m = re.match(r"(?:['’]s)?\s+(?:(?:now|also|even|still|already|automatically|only|"
                     r"really|just|always|never)\s+)?([a-z]+)", after)
        if not m:
            continue
        verb = m.group(1)
        if verb in SUBJECT_VERBS or (verb.endswith("s") and not verb.endswith(("ss", "us"))
                                     and verb not in ("users", "customers", "teams")):
            return True
    return False
