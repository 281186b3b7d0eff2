"""Obvious English profanity: strong words fail, mild ones warn."""

from __future__ import annotations

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.quality_checks.terms import TermMatcher, drop_contained
from plugins.quality_checks.wording import plural, quote, subject_text

#: Deliberately short: obvious English profanity only. Strong words fail; mild ones warn,
#: since "damn good coffee" can be an intended voice. Evasions such as "f*ck" are out of
#: scope. Projects add their own words as banned terms.
PROFANITY_STRONG = (
    "fuck", "motherfucker", "shit", "bullshit", "shitty", "bitch", "bastard", "asshole",
    "arsehole", "cunt", "dickhead", "piss", "pissed off", "wanker", "twat", "bollocks",
    "douchebag", "slut", "whore", "jackass",
)
PROFANITY_MILD = ("damn", "dammit", "goddamn", "crap", "crappy", "bloody hell", "arse")
_PROFANITY = TermMatcher(PROFANITY_STRONG + PROFANITY_MILD)
_MILD = frozenset(PROFANITY_MILD)


class ProfanityCheck(Check):
    """Built-in profanity list, matched like banned terms (whole word, inflections)."""

    id = "profanity"
    modalities = ("text",)
    version = "1.0"
    description = "Finds profanity: strong words fail, mild ones ('damn', 'crap') warn."
    default_severity = "medium"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Fail on strong profanity, warn on mild; one evidence item per occurrence."""
        hits = drop_contained(_PROFANITY.find(subject_text(subject)))
        evidence = []
        for hit in hits:
            mild = hit.term in _MILD
            evidence.append(Evidence(
                f"{quote(hit.matched)} is {'mild ' if mild else ''}profanity",
                span=(hit.start, hit.end),
                data={"term": hit.term, "tier": "mild" if mild else "strong"}))
        if not evidence:
            return CheckOutcome("pass", "info", 0.0, "no profanity found")
        strong = sum(e.data["tier"] == "strong" for e in evidence)
        if strong:
            return CheckOutcome("fail", self.default_severity, float(len(evidence)),
                                f"{plural(len(evidence), 'profane word')} found", evidence)
        return CheckOutcome("warn", "low", float(len(evidence)),
                            f"{plural(len(evidence), 'mildly profane word')} found", evidence)
