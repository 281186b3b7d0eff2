"""The text an audio or video asset carries, and the brand kit's text rules applied to it.

A voice-over says its script; a clip may carry captions. The brand kit's banned terms and
required disclaimers apply to those words as much as to a written text, so the text
checks of the quality-checks plugin run on them unchanged: the wrappers here hand them a
text subject made of the carried words and reword where it was found. No rule logic is
repeated here.

Where the words come from, first found first:

- ``metadata["script"]``: the text a speech generator spoke (generators should set it);
- ``metadata["captions"]``: text, a list of texts, or a list of ``{"text": …}`` cues;
- for speech without a recorded script, the job's rendered prompt (what was spoken).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.quality_checks.banned_terms import BannedTermsCheck
from plugins.quality_checks.disclaimers import DisclaimersCheck

__all__ = ["CarriedText", "ScriptBannedTermsCheck", "ScriptDisclaimersCheck", "carried_text",
           "is_speech", "script_of"]

#: Generator ids (or their prefixes) whose audio is speech: the prompt is the script.
SPEECH_GENERATOR_PREFIXES = ("speech-", "tts-")


@dataclasses.dataclass(frozen=True)
class CarriedText:
    """Words an asset carries and what they are ("script", "captions" or both)."""

    text: str
    source: str


def is_speech(subject: CheckSubject) -> bool:
    """Whether the audio is meant to say words: a recorded script or a speech generator."""
    if subject.kind != "audio":
        return False
    if isinstance(subject.metadata.get("script"), str) or subject.metadata.get("speech") is True:
        return True
    return subject.generator.startswith(SPEECH_GENERATOR_PREFIXES)


def _captions(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        parts = [item if isinstance(item, str) else item.get("text", "")
                 for item in value if isinstance(item, str | dict)]
        return "\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return ""


def script_of(subject: CheckSubject) -> str:
    """The words speech audio was asked to say ('' when it is not speech)."""
    if not is_speech(subject):
        return ""
    script = subject.metadata.get("script")
    if isinstance(script, str) and script.strip():
        return script.strip()
    return subject.prompt.strip()


def carried_text(subject: CheckSubject) -> CarriedText | None:
    """The script and captions of an audio or video asset, or None when it carries none."""
    if subject.kind not in ("audio", "video"):
        return None
    parts, sources = [], []
    raw = subject.metadata.get("script")
    script = script_of(subject) or (raw.strip() if isinstance(raw, str) else "")
    if script:
        parts.append(script)
        sources.append("script")
    captions = _captions(subject.metadata.get("captions"))
    if captions:
        parts.append(captions)
        sources.append("captions")
    if not parts:
        return None
    return CarriedText("\n\n".join(parts), " and ".join(sources))


class _CarriedTextCheck(Check):
    """Runs a text check on the words an audio or video asset carries."""

    text_check: ClassVar[type[Check]]
    modalities = ("audio", "video")

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """The text check's verdict, worded for the script; a pass when there are no words."""
        carried = carried_text(subject)
        if carried is None:
            return CheckOutcome("pass", "info", None,
                                "this asset carries no script or captions to check")
        text_subject = CheckSubject(asset_id=subject.asset_id, kind="text",
                                    media_type="text/plain", sha256=subject.sha256,
                                    text=carried.text)
        outcome = self.text_check().run(text_subject, context)
        # Spans point into the carried words, not into the asset's (binary) content: they
        # move into the data, so no viewer highlights the wrong thing.
        evidence = [Evidence(f"in the {carried.source}: {e.message}", None, e.region,
                             {**e.data, "source": carried.source,
                              **({"text_span": list(e.span)} if e.span else {})})
                    for e in outcome.evidence]
        return dataclasses.replace(outcome, summary=f"{carried.source}: {outcome.summary}",
                                   evidence=evidence,
                                   metadata={**outcome.metadata, "source": carried.source})


class ScriptBannedTermsCheck(_CarriedTextCheck):
    """The brand kit's banned terms in a voice-over's script or a clip's captions."""

    id = "script-banned-terms"
    version = "1.0"
    text_check = BannedTermsCheck
    description = ("The brand kit's banned terms in the script or captions of audio and "
                   "video (the same matching as for texts).")
    default_severity = BannedTermsCheck.default_severity


class ScriptDisclaimersCheck(_CarriedTextCheck):
    """The brand kit's required disclaimers in a voice-over's script or a clip's captions."""

    id = "script-disclaimers"
    version = "1.0"
    text_check = DisclaimersCheck
    description = ("The brand kit's required disclaimers in the script or captions of audio "
                   "and video (the same triggers as for texts).")
    default_severity = DisclaimersCheck.default_severity
