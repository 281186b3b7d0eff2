"""WAV encoding of generated audio: 16-bit PCM, no metadata, the same bytes every time.

soundfile (libsndfile) writes the RIFF header from the sample rate, channel count and
length alone, with no timestamps, so equal samples give equal files: what the platform
hashes, stores and signs. Samples are clipped to [-1, 1] first: libsndfile does not clip
float input when converting to integers, and a random demo model's output strays past 1.
"""

from __future__ import annotations

import io
from typing import Any

SUBTYPE = "PCM_16"


def encode_wav(audio: Any, sampling_rate: int) -> bytes:
    """``audio`` as (samples, channels) floats in [-1, 1] → WAV bytes."""
    import numpy as np
    import soundfile

    samples = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sampling_rate, subtype=SUBTYPE, format="WAV")
    return buffer.getvalue()
