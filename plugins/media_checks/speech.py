"""Speech: does the voice-over say the requested script?

Only a speech-recognition model can tell, and none ships with Assay: an operator names one
with ``ASSAY_SPEECH_RECOGNITION_MODEL`` (see :mod:`plugins.media_checks.transcribers`).
Without one the check says plainly that the words were **not checked** (a warning of
severity info, so a reviewer acknowledges it with a reason after listening), never a pass.

With a model, the transcript is compared with the script word by word (a Levenshtein
alignment over normalised words; no word-error-rate package is installed): a word error
rate up to 15 % passes (recognisers mishear names and numbers), up to 35 % warns, more
fails. The differing words are the evidence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.media_checks.carried import is_speech, script_of
from plugins.media_checks.findings import load_audio
from plugins.media_checks.transcribers import (
    SETTING,
    Transcriber,
    TranscriberUnavailable,
    configured_transcriber,
)

__all__ = ["Alignment", "SpeechScriptCheck", "align_words", "words"]

PASS_WER = 0.15
WARN_WER = 0.35
MAX_DIFFERENCES = 10

NOT_CONFIGURED = (f"Not checked: no speech-recognition model is configured "
                  f"({SETTING}), so nothing has confirmed that the audio says the script. "
                  "Listen to it before approving.")


def words(text: str) -> list[str]:
    """Lower-case words without punctuation or accents' variants: what a listener hears."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[’'`]", "", text)
    return re.findall(r"[^\W_]+", text)


@dataclass(frozen=True)
class Alignment:
    """Word edit distance between the script and what was heard, with the differences."""

    errors: int
    script_words: int
    #: (what the script says, what was heard): ("", x) inserted, (x, "") left out.
    differences: tuple[tuple[str, str], ...]

    @property
    def word_error_rate(self) -> float:
        """Errors per script word (1.0 when the script is empty but words were heard)."""
        if self.script_words == 0:
            return 0.0 if self.errors == 0 else 1.0
        return self.errors / self.script_words


def align_words(script: str, heard: str) -> Alignment:
    """Levenshtein over words, with the backtrace that names each difference."""
    ref, hyp = words(script), words(heard)
    rows, cols = len(ref) + 1, len(hyp) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            same = ref[i - 1] == hyp[j - 1]
            cost[i][j] = min(cost[i - 1][j] + 1, cost[i][j - 1] + 1,
                             cost[i - 1][j - 1] + (0 if same else 1))
    differences: list[tuple[str, str]] = []
    i, j = len(ref), len(hyp)
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] != hyp[j - 1]:
                differences.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            differences.append((ref[i - 1], ""))
            i -= 1
        else:
            differences.append(("", hyp[j - 1]))
            j -= 1
    differences.reverse()
    return Alignment(cost[-1][-1], len(ref), tuple(differences))


def _difference(said: str, heard: str) -> str:
    if not heard:
        return f"'{said}' is in the script but was not heard"
    if not said:
        return f"'{heard}' was heard but is not in the script"
    return f"the script says '{said}' but '{heard}' was heard"


class SpeechScriptCheck(Check):
    """The spoken words against the requested script, where a recogniser is configured."""

    id = "speech-script"
    modalities = ("audio",)
    version = "1.0"
    default_severity = "high"
    description = (
        "Transcribes speech with the configured speech-recognition model and compares it "
        "with the script (word error rate); says 'not checked' when no model is configured.")

    def __init__(self, transcriber: Transcriber | None = None) -> None:
        #: None means the configured model (loaded once per process), if any.
        self.transcriber = transcriber

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Score = word error rate (0 is word for word)."""
        if not is_speech(subject):
            return CheckOutcome("pass", "info", None,
                                "not speech: there is no script to compare with")
        script = script_of(subject)
        if not script:
            return CheckOutcome("warn", "info", None,
                                "Not checked: the speech has no recorded script to compare "
                                "with.", metadata={"checked": False, "reason": "no_script"})
        try:
            transcriber = self.transcriber or configured_transcriber()
        except TranscriberUnavailable as exc:
            return CheckOutcome("warn", "medium", None,
                                f"Not checked: the speech-recognition model could not be "
                                f"loaded ({exc}).",
                                metadata={"checked": False, "reason": "model_unavailable"})
        if transcriber is None:
            return CheckOutcome("warn", "info", None, NOT_CONFIGURED,
                                metadata={"checked": False, "reason": "no_model"})
        audio = load_audio(subject)
        if isinstance(audio, CheckOutcome):
            return audio
        try:
            heard = transcriber.transcribe(audio.mono(), audio.rate)
        except Exception as exc:  # a recogniser's failure is not a verdict on the audio
            return CheckOutcome("warn", "medium", None,
                                f"Not checked: the speech-recognition model failed "
                                f"({type(exc).__name__}: {str(exc)[:200]}).",
                                metadata={"checked": False, "reason": "model_failed"})
        alignment = align_words(script, heard)
        wer = round(alignment.word_error_rate, 4)
        metadata = {"checked": True, "model": transcriber.name, "transcript": heard[:2000],
                    "word_error_rate": wer}
        if wer <= PASS_WER and not (alignment.errors and alignment.script_words == 0):
            return CheckOutcome("pass", "info", wer,
                                f"the audio says the script ({wer:.0%} of words differ)",
                                metadata=metadata)
        evidence = [Evidence(_difference(said, got), data={"script": said, "heard": got})
                    for said, got in alignment.differences[:MAX_DIFFERENCES]]
        evidence.append(Evidence(f"heard: '{heard[:500]}'",
                                 data={"transcript": heard[:2000], "model": transcriber.name}))
        summary = (f"the audio does not say the script: {alignment.errors} of "
                   f"{alignment.script_words} words differ ({wer:.0%})")
        if wer <= WARN_WER:
            return CheckOutcome("warn", "medium", wer, summary, evidence, metadata)
        return CheckOutcome("fail", self.default_severity, wer, summary, evidence, metadata)
