"""Pluggy entry point of the media-checks plugin (entry-point group ``assay``).

Automated checks for audio and video assets: each compares the medium with what the job
asked for or with plain limits, and the brand kit's text rules reach the words a clip
carries. The thresholds are written at the top of each module.
"""

from __future__ import annotations

from assay import Check, hookimpl
from plugins.media_checks.audio import (
    AudioClippingCheck,
    AudioDurationCheck,
    AudioLoudnessCheck,
    AudioSilenceCheck,
)
from plugins.media_checks.carried import ScriptBannedTermsCheck, ScriptDisclaimersCheck
from plugins.media_checks.frames import FrameBlankCheck, FrameNoiseCheck
from plugins.media_checks.speech import SpeechScriptCheck
from plugins.media_checks.video import (
    BlackFramesCheck,
    FrozenFramesCheck,
    VideoResolutionCheck,
    VideoTimingCheck,
)

#: Assay plugin API versions this module was written against.
ASSAY_API = ">=1,<2"

CHECKS: tuple[type[Check], ...] = (
    AudioDurationCheck,
    AudioClippingCheck,
    AudioSilenceCheck,
    AudioLoudnessCheck,
    SpeechScriptCheck,
    VideoTimingCheck,
    BlackFramesCheck,
    FrozenFramesCheck,
    VideoResolutionCheck,
    FrameBlankCheck,
    FrameNoiseCheck,
    ScriptBannedTermsCheck,
    ScriptDisclaimersCheck,
)


@hookimpl
def register_checks() -> list[type[Check]]:
    """Every audio, video and carried-text check of this plugin."""
    return list(CHECKS)
