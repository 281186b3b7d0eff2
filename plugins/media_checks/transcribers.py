"""Speech recognisers the speech check can use, behind one small interface.

``ASSAY_SPEECH_RECOGNITION_MODEL`` names the model: a local folder, or a hub id pinned to
a commit as ``owner/name@<commit>`` that is already in the model cache (nothing is
downloaded while checking). Empty, the default: no recogniser, and the speech check says
"not checked". Read from the environment here because a plugin imports only the ``assay``
facade, not Django settings; the setting is declared in ``assay.conf`` and the README.

The model runs through transformers' automatic-speech-recognition pipeline (Whisper,
wav2vec2 and their kin), on the CPU check queue, loaded once per process.
"""

from __future__ import annotations

import os
import threading
from math import gcd
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SETTING", "PipelineTranscriber", "Transcriber", "TranscriberUnavailable",
           "configured_transcriber"]

SETTING = "ASSAY_SPEECH_RECOGNITION_MODEL"

_lock = threading.Lock()
_loaded: dict[str, PipelineTranscriber] = {}
#: Settings whose model failed to load, with why: not retried on every asset.
_failed: dict[str, str] = {}


class TranscriberUnavailable(RuntimeError):
    """The configured recogniser could not be loaded (missing files, package or memory)."""


class Transcriber(Protocol):
    """Turns mono float samples (full scale ±1) at ``rate`` Hz into the words heard."""

    name: str

    def transcribe(self, samples: np.ndarray, rate: int) -> str:
        """The words heard, as plain text."""
        ...


class PipelineTranscriber:
    """A transformers automatic-speech-recognition pipeline, resampled to its model's rate."""

    def __init__(self, source: str, revision: str | None = None) -> None:
        self.name = f"{source}@{revision}" if revision else source
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download while checking
        try:
            from transformers import pipeline

            self._pipe: Any = pipeline("automatic-speech-recognition", model=source,
                                       revision=revision, device="cpu")
        except Exception as exc:  # loaders raise many types for missing or foreign files
            raise TranscriberUnavailable(f"{self.name}: {exc}"[:300]) from exc
        extractor = getattr(self._pipe, "feature_extractor", None)
        self.rate = int(getattr(extractor, "sampling_rate", 16000) or 16000)

    def transcribe(self, samples: np.ndarray, rate: int) -> str:
        """Resample with scipy (the pipeline's own resampler needs torchaudio), then run."""
        import numpy as np
        from scipy.signal import resample_poly

        audio = np.asarray(samples, dtype=np.float32)
        if rate != self.rate:
            common = gcd(int(rate), self.rate)
            audio = resample_poly(audio, self.rate // common, int(rate) // common).astype(
                np.float32)
        result = self._pipe({"raw": audio, "sampling_rate": self.rate})
        return str(result.get("text", "") if isinstance(result, dict) else result).strip()


def configured_transcriber() -> Transcriber | None:
    """The recogniser named by the setting (loaded once per process), or None when unset.

    Raises:
        TranscriberUnavailable: it is set but the model cannot be loaded.
    """
    value = (os.environ.get(SETTING) or "").strip()
    if not value:
        return None
    with _lock:
        if value in _failed:
            raise TranscriberUnavailable(_failed[value])
        if value not in _loaded:
            try:
                _loaded[value] = _load(value)
            except TranscriberUnavailable as exc:
                _failed[value] = str(exc)
                raise
        return _loaded[value]


def _load(value: str) -> PipelineTranscriber:
    """A folder (absolute, relative with ./ or existing) or ``owner/name@commit``."""
    folder = os.path.expanduser(value)
    if os.path.isabs(folder) or value.startswith((".", "~")) or os.path.isdir(folder):
        if not os.path.isfile(os.path.join(folder, "config.json")):
            # Said before transformers is imported (seconds): a typo is found at once.
            raise TranscriberUnavailable(f"{value} is not a model folder (no config.json)")
        return PipelineTranscriber(folder)
    source, _, revision = value.partition("@")
    if not revision:
        raise TranscriberUnavailable(f"{value} names no commit; write it as "
                                     f"{source}@<commit> so the model cannot change unseen")
    return PipelineTranscriber(source, revision)
