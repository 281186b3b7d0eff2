"""The factuality review check: every check-worthy claim against the approved facts.

Each claim becomes one piece of evidence pointing at its sentence, so the reviewer sees
the verdict, the fact and its source beside the text it is about.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.factuality.embeddings import Embedder, ModelUnavailable
from plugins.factuality.verdicts import ClaimVerdict, assess

NO_FACTS = ("This project has no approved facts yet, so claims were not checked; an "
            "owner can add them to the brand kit.")
NO_CLAIMS = "No check-worthy claims found."
#: Each claim's own status, carried in its evidence: the check as a whole fails or warns
#: when any claim does, but a supported claim beside it still passes.
CLAIM_STATUS = {"supported": "pass", "contradicted": "fail", "unsupported": "warn"}


class FactualityCheck(Check):
    """Contradicted claims fail the check; unsupported ones warn; supported ones pass."""

    id: ClassVar[str] = "factuality"
    modalities: ClassVar[tuple[str, ...]] = ("text",)
    version: ClassVar[str] = "1.0"
    default_severity: ClassVar[str] = "high"
    description: ClassVar[str] = (
        "Finds check-worthy claims (figures, prices, dates, superlatives, comparisons, "
        "product names) and checks each against the project's approved facts: supported "
        "(with the fact and its source), contradicted or unsupported.")

    def __init__(self, embedder: Embedder | None = None) -> None:
        #: None means the real sentence-embedding model (loaded once per process).
        self.embedder = embedder

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Verdicts for every claim in ``subject.text``, as one evidence item per claim."""
        text = subject.text or ""
        if not context.facts:
            # A project without a fact library has not opted into claim checking: say so
            # plainly instead of flagging every figure as unsupported.
            return CheckOutcome("pass", "info", None, NO_FACTS,
                                metadata={"claims": None, "facts": 0})
        try:
            verdicts = assess(text, context.facts, today=context.today, embedder=self.embedder)
        except ModelUnavailable as exc:
            return CheckOutcome("warn", "medium", None,
                                f"Claims were not checked: {exc}.",
                                metadata={"error": "model_unavailable"})
        if not verdicts:
            return CheckOutcome("pass", "info", 1.0, NO_CLAIMS, metadata={"claims": 0})
        counts = Counter(v.verdict for v in verdicts)
        total, bad = len(verdicts), counts["contradicted"] + counts["unsupported"]
        if counts["contradicted"]:
            status, severity = "fail", "high"
        elif counts["unsupported"]:
            status, severity = "warn", "medium"
        else:
            status, severity = "pass", "info"
        if bad:
            noun, verb = ("claim", "needs") if total == 1 else ("claims", "need")
            summary = (f"{bad} of {total} {noun} {verb} attention "
                       f"({counts['contradicted']} contradicted, {counts['unsupported']} "
                       f"unsupported).")
        else:
            summary = ("The claim is supported by an approved fact." if total == 1 else
                       f"All {total} claims are supported by approved facts.")
        metadata: dict[str, Any] = {"claims": total, **{k: counts[k] for k in
                                                        ("supported", "contradicted",
                                                         "unsupported")}}
        return CheckOutcome(status, severity, round(counts["supported"] / total, 4), summary,
                            [_evidence(v) for v in verdicts], metadata)


def _evidence(v: ClaimVerdict) -> Evidence:
    """The verdict in plain words at the claim's span, with the claim's own status (so a
    supported claim shows as passing); the fact only when it is the basis."""
    message = f"{v.verdict.capitalize()}: {v.reason}"
    if v.fact_is_basis and v.source:
        message += f" (source: {v.source})"
    basis = v.fact_is_basis
    return Evidence(message, span=v.span, data={
        "claim": v.sentence, "verdict": v.verdict, "status": CLAIM_STATUS[v.verdict],
        "reason": v.reason, "kinds": list(v.kinds),
        "fact_id": v.fact_id if basis else None, "fact": v.fact if basis else None,
        "source": v.source if basis else None, "similarity": v.similarity,
        "closest_fact_id": v.fact_id})
