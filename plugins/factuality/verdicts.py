"""The verdict engine: each claim against the approved facts, by meaning and by the numbers.

The sentence-embedding model finds the facts a claim is about; it cannot tell 30 % from
40 %, so the verdict itself comes from comparing the figures, superlatives and comparisons
the claim and the fact state. Only facts valid on the review day count; an expired fact
that would have supported a claim is named in the reason, because "this was true until
last month" is exactly what a reviewer needs to hear.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from assay import Fact
from plugins.factuality.comparisons import Comparative
from plugins.factuality.embeddings import Embedder, default_embedder, normalise
from plugins.factuality.extraction import Claim, extract_claims, parse_sentence
from plugins.factuality.names import names_in_facts, same_product
from plugins.factuality.quantities import Quantity
from plugins.factuality.sentences import Sentence, clauses, split_sentences
from plugins.factuality.words import DIRECTION_WORDS

VERDICTS = ("supported", "contradicted", "unsupported")

#: How many facts, most similar first, a claim is compared with.
TOP_K = 8
#: Below this cosine similarity a fact is not about the claim at all.
MIN_RELEVANCE = 0.3
#: A figure that matches the approved one still needs a fact this similar to count.
SUPPORT_MIN = 0.4
#: A different figure contradicts only when the fact is clearly about the same thing.
CONTRADICT_MIN = 0.4
#: Same kind of figure, no shared context words, but this similar: still the same thing.
STRONG_SIMILARITY = 0.75
#: Superlatives and comparisons need a fact making the same one, about this closely.
WORDING_MIN = 0.45
#: A sentence whose only checkable part is a product name needs a near-paraphrase: two
#: unrelated sentences naming the same product already score about 0.6 on the name alone.
PARAPHRASE_MIN = 0.75

@dataclass
class ClaimVerdict:
    """One claim's verdict, with the fact it was judged against and why, in plain words."""

    sentence: str
    span: tuple[int, int]
    kinds: tuple[str, ...]
    verdict: str  # one of VERDICTS
    reason: str
    fact_id: str | None = None
    fact: str | None = None
    source: str | None = None
    similarity: float = 0.0
    #: True when the verdict rests on this fact; False when it is only the most similar one
    #: (an unsupported claim with no fact about it).
    fact_is_basis: bool = False
    claim: Claim | None = field(default=None, repr=False)

    @property
    def needs_attention(self) -> bool:
        """Contradicted and unsupported claims go to the reviewer."""
        return self.verdict != "supported"


@dataclass
class _FactInfo:
    fact: Fact
    parsed: Claim

    @property
    def names(self) -> list[str]:
        return self.parsed.names


@dataclass
class _Finding:
    """The verdict on one part of a claim (one figure, superlative or comparison)."""

    verdict: str
    reason: str
    fact: int | None = None  # index into the fact list


def assess(text: str, facts: Sequence[Fact], *, today: date,
           embedder: Embedder | None = None) -> list[ClaimVerdict]:
    """Verdicts for every check-worthy claim in ``text`` against ``facts`` on ``today``.

    All sentences and fact statements are embedded in one batch. ``embedder`` replaces the
    real model (tests, other models); it is not called when there is nothing to compare.
    """
    facts = list(facts)
    known = _known_names(tuple(f.statement for f in facts))
    claims = extract_claims(text, known)
    if not claims:
        return []
    infos = [_FactInfo(f, _parse_fact(f.statement, known)) for f in facts]
    if infos:
        # Each claim is compared by its best-matching part: the whole sentence or one of
        # its clauses. Everything is encoded in one batch.
        owners: list[int] = []
        texts: list[str] = []
        for n, claim in enumerate(claims):
            context = [claim.context] if claim.context else []
            for part in [claim.sentence, *clauses(claim.sentence), *context]:
                owners.append(n)
                texts.append(part)
        embed = embedder or default_embedder()
        vectors = normalise(embed(texts + [f.statement for f in facts]))
        part_sims = vectors[: len(texts)] @ vectors[len(texts):].T
        sims = np.full((len(claims), len(facts)), -1.0, dtype=np.float32)
        for row, n in enumerate(owners):
            sims[n] = np.maximum(sims[n], part_sims[row])
    else:
        sims = np.zeros((len(claims), 0))
    valid = [i for i, info in enumerate(infos) if info.fact.valid_on(today)]
    everything = list(range(len(infos)))
    return [_verdict(claim, infos, sims[n], valid, everything, today)
            for n, claim in enumerate(claims)]


@functools.lru_cache(maxsize=256)
def _known_names(statements: tuple[str, ...]) -> tuple[str, ...]:
    """Product names the facts use (memoised: a project's facts rarely change)."""
    return tuple(names_in_facts(statements))


@functools.lru_cache(maxsize=8192)
def _parse_fact(statement: str, known: tuple[str, ...]) -> Claim:
    """Everything checkable in a fact statement, all its sentences together (memoised, so
    the result is shared: never mutate it)."""
    parts = [parse_sentence(s, known) for s in split_sentences(statement)] or [
        parse_sentence(Sentence(statement, 0, len(statement)), known)]
    return Claim(statement, 0, len(statement),
                 [q for p in parts for q in p.quantities],
                 [s for p in parts for s in p.superlatives],
                 [c for p in parts for c in p.comparatives],
                 list(dict.fromkeys(n for p in parts for n in p.names)))

def _verdict(claim: Claim, infos: list[_FactInfo], sims: np.ndarray, valid: list[int],
             everything: list[int], today: date) -> ClaimVerdict:
    verdict, reason, best = _judge(claim, infos, sims, valid)
    if verdict != "supported" and len(valid) < len(everything):
        # Would a fact outside its validity window have supported it? Say so: that is
        # the difference between "never approved" and "no longer (or not yet) true".
        alt_verdict, _, alt_best = _judge(claim, infos, sims, everything)
        invalid = [i for i in alt_best if i not in valid]
        if alt_verdict == "supported" and invalid:
            fact = infos[invalid[0]].fact
            expired = fact.valid_until is not None and fact.valid_until < today
            when = (fact.valid_until if expired else fact.valid_from) or today
            if verdict == "unsupported":
                why = "expired on" if expired else "applies only from"
                reason, best = f"the matching fact {why} {when.isoformat()}", [invalid[0]]
            else:
                why = "said so until" if expired else "says so only from"
                reason = f"{reason} (fact {fact.id} {why} {when.isoformat()})"
    index = best[0] if best else (int(np.argmax(sims)) if len(sims) else None)
    out = ClaimVerdict(claim.sentence, claim.span, claim.kinds, verdict, reason,
                       fact_is_basis=bool(best), claim=claim)
    if index is not None:
        fact = infos[index].fact
        out.fact_id, out.fact, out.source = fact.id, fact.statement, fact.source
        out.similarity = round(float(sims[index]), 3)
    return out


def _judge(claim: Claim, infos: list[_FactInfo], sims: np.ndarray,
           pool: list[int]) -> tuple[str, str, list[int]]:
    """(verdict, reason, facts behind it) using only the facts in ``pool``."""
    ranked = sorted((i for i in pool if sims[i] >= MIN_RELEVANCE), key=lambda i: -sims[i])
    ranked = ranked[:TOP_K]
    same = [i for i in ranked if _product_ok(claim, infos[i])]
    other = [i for i in ranked if i not in same]
    findings: list[_Finding] = []
    findings += [_judge_quantity(q, infos, sims, same, other) for q in claim.quantities]
    findings += [_judge_superlative(s.group, s.text, infos, sims, same, other)
                 for s in claim.superlatives]
    findings += [_judge_comparative(c, infos, sims, same) for c in claim.comparatives]
    if not findings:
        findings.append(_judge_statement(claim, infos, sims, same))
    for verdict in ("contradicted", "unsupported"):
        hits = [f for f in findings if f.verdict == verdict]
        if hits:
            reason = "; ".join(dict.fromkeys(f.reason for f in hits))
            return verdict, reason, [f.fact for f in hits if f.fact is not None]
    supporting = sorted({f.fact for f in findings if f.fact is not None}, key=lambda i: -sims[i])
    quoted = [f"\u201c{infos[i].fact.statement}\u201d" for i in supporting]
    if len(quoted) == 1:
        return "supported", f"matches the approved fact {quoted[0]}", supporting
    return "supported", f"matches the approved facts {' and '.join(quoted)}", supporting


def _product_ok(claim: Claim, info: _FactInfo) -> bool:
    """A fact about another named product cannot support or contradict the claim."""
    if not claim.names or not info.names:
        return True
    return any(same_product(a, b) for a in claim.names for b in info.names)


def _judge_quantity(q: Quantity, infos: list[_FactInfo], sims: np.ndarray, same: list[int],
                    other: list[int]) -> _Finding:
    aligned = [(i, fq) for i in same for fq in infos[i].parsed.quantities
               if _comparable(q, fq, float(sims[i]))]
    matches = [(i, fq) for i, fq in aligned if _implies(fq, q) and sims[i] >= SUPPORT_MIN]
    if matches:
        return _Finding("supported", "", max(matches, key=lambda m: sims[m[0]])[0])
    if aligned:
        i, fq = max(aligned, key=lambda m: (_overlap(q, m[1]), sims[m[0]]))
        if sims[i] >= CONTRADICT_MIN:
            return _Finding("contradicted",
                            f"says {q.describe()}; the approved fact says {fq.describe()}", i)
    elsewhere = [i for i in other for fq in infos[i].parsed.quantities
                 if _comparable(q, fq, float(sims[i])) and _implies(fq, q)]
    if elsewhere:
        about = " and ".join(infos[elsewhere[0]].names)
        return _Finding("unsupported", f"{q.describe()}: the approved figure is about {about}",
                        elsewhere[0])
    return _Finding("unsupported", f"no approved fact gives {q.describe()}")


def _comparable(q: Quantity, fq: Quantity, similarity: float) -> bool:
    """Whether two figures measure the same thing, so that their values may be compared."""
    if q.kind != fq.kind:
        return False
    if q.kind == "price":
        period, fact_period = q.unit.partition("/")[2], fq.unit.partition("/")[2]
        if period and fact_period and period != fact_period:
            return False
    elif q.kind == "standard":
        return q.unit == fq.unit
    elif q.kind == "availability":
        return True
    elif q.kind == "number":
        # "12,000 customers" is not "12,000 teams", and "customers" alone does not make a
        # survey's "800 customers" the figure of a claim about the customer base: the same
        # unit, plus shared context or near-paraphrase sentences.
        if similarity >= STRONG_SIMILARITY:
            return not (q.unit_words and fq.unit_words) or bool(q.unit_words & fq.unit_words)
        if not (q.unit_words and fq.unit_words and q.unit_words & fq.unit_words):
            return False
        return bool((q.context & fq.context) - q.unit_words - fq.unit_words - DIRECTION_WORDS)
    if similarity >= STRONG_SIMILARITY:
        return True
    shared = q.context & fq.context
    if shared - DIRECTION_WORDS:
        return True
    return bool(shared) and not (q.context - DIRECTION_WORDS)


def _overlap(q: Quantity, fq: Quantity) -> int:
    return len(q.context & fq.context) + 2 * len(q.unit_words & fq.unit_words)


def _implies(fq: Quantity, q: Quantity) -> bool:
    """Whether the approved figure ``fq`` makes the claimed figure ``q`` true."""
    if q.kind == "date":
        return _same_date(q.value, fq.value)  # type: ignore[arg-type]
    if q.kind == "price" and q.unit.partition("/")[0] != fq.unit.partition("/")[0]:
        return False
    if {"increase", "decrease"} <= (q.context | fq.context) and (
            q.context & {"increase", "decrease"}) != (fq.context & {"increase", "decrease"}):
        return False
    lo_f, lo_f_strict, hi_f, hi_f_strict = fq.interval(as_fact=True)
    lo_c, lo_c_strict, hi_c, hi_c_strict = q.interval(as_fact=False)
    low_ok = _below(lo_c, lo_f) or (_equal(lo_c, lo_f) and (lo_f_strict or not lo_c_strict))
    high_ok = _below(hi_f, hi_c) or (_equal(hi_c, hi_f) and (hi_f_strict or not hi_c_strict))
    return low_ok and high_ok


def _equal(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _below(a: float, b: float) -> bool:
    return a < b and not _equal(a, b)


def _same_date(claimed: tuple[int | None, ...], approved: tuple[int | None, ...]) -> bool:
    """Equal on every part both name: "2025" agrees with "March 2025", not with "2024";
    "12 June" (no year) agrees with "12 June 2025"."""
    year, month, day, quarter = claimed
    f_year, f_month, f_day, f_quarter = approved
    if year and f_year and year != f_year:
        return False
    if month and f_month and month != f_month:
        return False
    if day and f_day and month == f_month and day != f_day:
        return False
    q1 = quarter or (month and (month - 1) // 3 + 1)
    q2 = f_quarter or (f_month and (f_month - 1) // 3 + 1)
    return not (q1 and q2 and q1 != q2)


def _judge_superlative(group: str, text: str, infos: list[_FactInfo], sims: np.ndarray,
                       same: list[int], other: list[int]) -> _Finding:
    for i in same:
        if sims[i] >= WORDING_MIN and any(s.group == group for s in infos[i].parsed.superlatives):
            return _Finding("supported", "", i)
    for i in other:
        if sims[i] >= WORDING_MIN and any(s.group == group for s in infos[i].parsed.superlatives):
            about = " and ".join(infos[i].names)
            return _Finding("unsupported",
                            f"\u201c{text}\u201d: the approved claim is about {about}", i)
    return _Finding("unsupported", f"\u201c{text}\u201d is a superlative no approved fact makes")


def _judge_comparative(c: Comparative, infos: list[_FactInfo], sims: np.ndarray,
                       same: list[int]) -> _Finding:
    mismatch: tuple[int, Comparative] | None = None
    for i in same:
        if sims[i] < WORDING_MIN:
            continue
        for fc in infos[i].parsed.comparatives:
            if not (c.group == fc.group or "*" in (c.group, fc.group)):
                continue
            if not c.target or c.target & fc.target:
                return _Finding("supported", "", i)
            mismatch = mismatch or (i, fc)
    if mismatch:
        i, fc = mismatch
        theirs = f"with {fc.target_text}" if fc.target_text else "with nothing named"
        return _Finding("unsupported",
                        f"compares with {c.target_text}; the approved fact compares {theirs}", i)
    return _Finding("unsupported", f"\u201c{c.text}\u201d is a comparison no approved fact makes")


def _judge_statement(claim: Claim, infos: list[_FactInfo], sims: np.ndarray,
                     same: list[int]) -> _Finding:
    """A sentence about a named product with no figure: a close paraphrase or nothing."""
    named = [i for i in same if infos[i].names and sims[i] >= PARAPHRASE_MIN]
    if named:
        return _Finding("supported", "", named[0])
    about = " and ".join(claim.names) or "this"
    return _Finding("unsupported", f"no approved fact says this about {about}")
