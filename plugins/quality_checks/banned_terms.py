"""The brand kit's banned terms in the text, with the alternatives the kit suggests."""

from __future__ import annotations

from assay import BannedTerm, Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.quality_checks.terms import TermMatcher, drop_contained
from plugins.quality_checks.wording import or_list, plural, quote, subject_text


class BannedTermsCheck(Check):
    """The brand kit's banned terms, matched whole-word, case- and inflection-aware."""

    id = "banned-terms"
    modalities = ("text",)
    version = "1.0"
    description = ("Finds the project's banned terms (whole words, any case, simple "
                   "inflections such as 'cheaper' for 'cheap') and suggests the alternatives.")
    default_severity = "medium"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Fail with one evidence item per occurrence; pass when none or no list."""
        if not context.banned_terms:
            return CheckOutcome("pass", "info", 0.0, "no banned terms are configured")
        text = subject_text(subject)
        by_key: dict[str, BannedTerm] = {}
        for banned in context.banned_terms:
            by_key.setdefault(" ".join(banned.term.split()).lower(), banned)
        matcher = TermMatcher(b.term for b in by_key.values())
        hits = drop_contained(matcher.find(text))
        evidence = []
        for hit in hits:
            banned = by_key[" ".join(hit.term.split()).lower()]
            if hit.matched.lower() == banned.term.lower():
                said = f"{quote(hit.matched)} is banned"
            else:
                said = f"{quote(hit.matched)} is banned (a form of {quote(banned.term)})"
            if banned.alternatives:
                advice = f"say {or_list(banned.alternatives)} instead"
            else:
                advice = "rephrase without it"
            evidence.append(Evidence(
                f"{said}; {advice}", span=(hit.start, hit.end),
                data={"term": banned.term, "matched": hit.matched,
                      "alternatives": list(banned.alternatives)}))
        if not evidence:
            return CheckOutcome("pass", "info", 0.0, "no banned terms found")
        terms = sorted({e.data["term"] for e in evidence})
        return CheckOutcome(
            "fail", self.default_severity, float(len(evidence)),
            f"{plural(len(evidence), 'banned term')} found: {', '.join(terms)}", evidence)
