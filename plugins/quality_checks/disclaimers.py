"""Required disclaimers: each one whose trigger fires must appear somewhere in the text."""

from __future__ import annotations

import re

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.quality_checks.triggers import trigger_spans
from plugins.quality_checks.wording import plural, quote, subject_text


def _normalise(text: str) -> str:
    """Case, whitespace, quote and dash differences never make a disclaimer 'missing'."""
    text = text.casefold()
    text = re.sub(r"[‘’`´]", "'", text)
    text = re.sub(r"[“”„]", '"', text)
    text = re.sub(r"[‐‑‒–—]", "-", text)
    return " ".join(text.split())


class DisclaimersCheck(Check):
    """Each disclaimer whose trigger fires must appear somewhere in the text."""

    id = "required-disclaimers"
    modalities = ("text",)
    version = "1.0"
    description = ("Requires the project's disclaimers when their triggers fire: prices, "
                   "percentages, health or financial claims, keywords or patterns.")
    default_severity = "high"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Fail per missing disclaimer, pointing at the first span that required it."""
        if not context.disclaimers:
            return CheckOutcome("pass", "info", 0.0, "no disclaimers are configured")
        text = subject_text(subject)
        haystack = _normalise(text)
        missing: list[Evidence] = []
        problems: list[Evidence] = []
        triggered = 0
        for disclaimer in context.disclaimers:
            needle = _normalise(disclaimer.text).strip(" .;:!")
            if not needle:
                continue
            present = needle in haystack
            for trigger in disclaimer.triggers:
                spans, what, error = trigger_spans(trigger, text)
                if error:
                    problems.append(Evidence(
                        f"trigger ignored: {error}",
                        data={"trigger": trigger, "disclaimer": disclaimer.text}))
                    continue
                if not spans:
                    continue
                triggered += 1
                if present:
                    continue
                start, end = spans[0]
                missing.append(Evidence(
                    f"{what} ({quote(text[start:end], 40)}) is mentioned but the "
                    f"disclaimer {quote(disclaimer.text)} is missing",
                    span=(start, end),
                    data={"trigger": trigger, "disclaimer": disclaimer.text,
                          "occurrences": len(spans), "spans": [list(s) for s in spans[:20]]}))
                break  # one evidence per missing disclaimer: the first trigger that fired
        if missing:
            names = len({e.data["disclaimer"] for e in missing})
            return CheckOutcome("fail", self.default_severity, float(len(missing)),
                                f"{plural(names, 'required disclaimer')} missing",
                                missing + problems)
        if problems:
            return CheckOutcome("warn", "low", 0.0,
                                f"{plural(len(problems), 'trigger')} could not be evaluated",
                                problems)
        if triggered:
            return CheckOutcome("pass", "info", 0.0, "every triggered disclaimer is present")
        return CheckOutcome("pass", "info", 0.0, "no disclaimer was triggered")
