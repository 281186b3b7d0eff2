"""The image checks on frames sampled from a video: blank and noise-like pictures.

The quality-checks plugin's own checks judge each sampled frame (first, last and three
between), unchanged: only the frame is new. The clip's verdict is the worst frame's, and
each flagged frame is named by its time so the reviewer can find it.
"""

from __future__ import annotations

import io
from typing import ClassVar

from PIL import Image

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.media_checks.findings import VideoCheck
from plugins.media_checks.media import Video
from plugins.quality_checks.image import BlankImageCheck
from plugins.quality_checks.noise import StructurelessNoiseCheck

__all__ = ["FrameBlankCheck", "FrameNoiseCheck"]

_RANK = {"pass": 0, "warn": 1, "fail": 2}


class _SampledFramesCheck(VideoCheck):
    """Runs one image check on each sampled frame and reports the worst."""

    image_check: ClassVar[type[Check]]

    def judge(self, video: Video, subject: CheckSubject, context: CheckContext
              ) -> CheckOutcome:
        """The worst frame's status and severity; score = the worst frame's score."""
        judged = []
        for index, frame in video.samples:
            buffer = io.BytesIO()
            Image.fromarray(frame).save(buffer, format="PNG")
            height, width = frame.shape[:2]
            still = CheckSubject(asset_id=subject.asset_id, kind="image",
                                 media_type="image/png", sha256=f"{subject.sha256}#{index}",
                                 data=buffer.getvalue(), width=width, height=height)
            judged.append((index, self.image_check().run(still, context)))
        if not judged:
            return CheckOutcome("warn", "info", None, "Not checked: no frames were sampled.")
        worst_index, worst = max(judged, key=lambda item: _RANK.get(item[1].status, 2))
        flagged = [(i, o) for i, o in judged if o.status != "pass"]
        evidence = []
        for index, outcome in flagged:
            when = video.at(index)
            where = f"frame {index + 1}" + (f" (at {when:g} s)" if when is not None else "")
            for item in outcome.evidence or [Evidence(outcome.summary)]:
                data = {**item.data, "frame": index}
                if when is not None:
                    data["time_start"] = when
                evidence.append(Evidence(f"{where}: {item.message}", None, None, data))
        if not flagged:
            return CheckOutcome("pass", "info", worst.score,
                                f"{len(judged)} sampled frames: {worst.summary}")
        return CheckOutcome(worst.status, worst.severity, worst.score,
                            f"{len(flagged)} of {len(judged)} sampled frames: "
                            f"{worst.summary}", evidence,
                            {"frames": [i for i, _ in judged], "worst_frame": worst_index})


class FrameBlankCheck(_SampledFramesCheck):
    """Blank or near-uniform frames, judged by the image blank check."""

    id = "video-frames-blank"
    image_check = BlankImageCheck
    description = ("The blank-image check on frames sampled across the clip: fails blank "
                   "or near-uniform frames, warns about frames with very little detail.")
    default_severity = BlankImageCheck.default_severity


class FrameNoiseCheck(_SampledFramesCheck):
    """Frames that are random noise (the demo video model's), judged by the image check."""

    id = "video-frames-noise"
    image_check = StructurelessNoiseCheck
    description = ("The noise-image check on frames sampled across the clip: warns when "
                   "they look like random noise rather than a picture.")
    default_severity = StructurelessNoiseCheck.default_severity
