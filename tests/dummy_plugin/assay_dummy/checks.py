"""A controllable check for exercising the review workflow.

Text containing BLOCKME fails with critical severity, WARNME warns with low severity,
FAILLOW fails with low severity (overridable); anything else passes.
"""

from __future__ import annotations

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence


class DummyWordsCheck(Check):
    """Flags marker words, with their spans as evidence."""

    id = "dummy-words"
    modalities = ("text",)
    version = "0.3"
    description = "Test check: flags BLOCKME, WARNME and FAILLOW."

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Look for the marker words."""
        text = subject.text or ""
        for word, status, severity in (("BLOCKME", "fail", "critical"),
                                       ("FAILLOW", "fail", "low"),
                                       ("WARNME", "warn", "low")):
            at = text.find(word)
            if at >= 0:
                return CheckOutcome(status=status, severity=severity, score=0.0,
                                    summary=f"found {word}",
                                    evidence=[Evidence(f"{word} is flagged",
                                                       span=(at, at + len(word)))])
        return CheckOutcome(status="pass", score=1.0, summary="no marker words")
