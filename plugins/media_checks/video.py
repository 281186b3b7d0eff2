"""Video checks: duration and frame rate against the request, black and frozen frames, size.

Thresholds and why:

- timing: the frame rate within 1 % (at least 0.05 fps) of the asked ``fps``, the frame
  count within one frame of the asked ``frames``, and the length within ``max(0.5 s,
  10 %)`` of the asked length (``frames / fps``, or a ``duration`` parameter). Without a
  request only a sane range: 0.2 s to 10 minutes, 1 to 120 fps.
- black frames: a frame is black when its mean grey level is at most 16 of 255 (video
  black) and 98 % of it is at most 32. All black, or half the frames or more, fails; a
  black stretch of 1 s or more warns (a fade to black at the ends is shorter).
- frozen frames: consecutive frames are the same picture when, on their 64-pixel grey
  copies, 99 % of the pixels change by under 3 grey levels of 255 (encoding noise of a
  still picture stays at 0–2; a pan of 2 pixels changes them by 17). A clip frozen
  throughout fails; a freeze of 2 s or half the clip fails; 1 s warns. Black stretches
  are left to the black-frame check.
- resolution: the frame size against the brand kit's minimum width and height (the same
  minimum as for images).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay import CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.media_checks.audio import runs
from plugins.media_checks.findings import VideoCheck, load_video
from plugins.media_checks.media import Video
from plugins.media_checks.requested import asked_duration, asked_fps, asked_frames, seconds

if TYPE_CHECKING:
    import numpy as np

__all__ = ["BlackFramesCheck", "FrozenFramesCheck", "VideoResolutionCheck", "VideoTimingCheck",
           "load_video"]

FPS_TOLERANCE_SHARE = 0.01
FPS_TOLERANCE_MIN = 0.05
DURATION_TOLERANCE_SHARE = 0.10
DURATION_TOLERANCE_MIN = 0.5
SANE_SECONDS = (0.2, 600.0)
SANE_FPS = (1.0, 120.0)
BLACK_MEAN = 16.0
BLACK_PERCENTILE = 98
BLACK_HIGH = 32.0
BLACK_FAIL_SHARE = 0.5
BLACK_WARN_SECONDS = 1.0
FROZEN_CHANGE = 3.0
FROZEN_PERCENTILE = 99
FROZEN_FAIL_SECONDS = 2.0
FROZEN_FAIL_SHARE = 0.5
FROZEN_WARN_SECONDS = 1.0
MAX_EVIDENCE = 10


def _fps(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + " fps"


def _span(video: Video, start: int, end: int) -> tuple[str, dict[str, object]]:
    """Frames [start, end) in words and as evidence data (times when the rate is known)."""
    data: dict[str, object] = {"frame_start": start, "frame_end": end}
    if video.fps:
        a, b = start / video.fps, end / video.fps
        data.update(time_start=round(a, 3), time_end=round(b, 3))
        return f"from {seconds(round(a, 2))} to {seconds(round(b, 2))}", data
    return f"frames {start + 1} to {end}", data


def _length(video: Video, frames: int) -> float | None:
    return frames / video.fps if video.fps else None


class VideoTimingCheck(VideoCheck):
    """Length, frame count and frame rate against what the job asked for."""

    id = "video-duration"
    description = ("Fails a clip whose length, frame count or frame rate is off what the job "
                   "asked for; without a request, checks a sane range.")

    def judge(self, video: Video, subject: CheckSubject, context: CheckContext
              ) -> CheckOutcome:
        """Score = the clip's length in seconds."""
        params = subject.parameters
        frames, fps = asked_frames(params), asked_fps(params)
        expected = asked_duration(params) or (frames / fps if frames and fps else None)
        length = round(video.duration, 3) if video.duration else None
        described = (f"{seconds(length) if length else 'unknown length'}, {video.frame_count}"
                     f" frames at {_fps(video.fps) if video.fps else 'an unknown rate'}")
        data = {"duration": length, "frames": video.frame_count, "fps": video.fps,
                "asked_duration": expected, "asked_frames": frames, "asked_fps": fps}
        problems = []
        if fps and (video.fps is None or abs(video.fps - fps)
                    > max(FPS_TOLERANCE_MIN, FPS_TOLERANCE_SHARE * fps)):
            problems.append(f"it plays at {_fps(video.fps) if video.fps else 'no known rate'}"
                            f", but {_fps(fps)} were asked for")
        if frames and not video.truncated and abs(video.frame_count - frames) > 1:
            problems.append(f"it has {video.frame_count} frames, but {frames} were asked for")
        if expected:
            tolerance = max(DURATION_TOLERANCE_MIN, DURATION_TOLERANCE_SHARE * expected)
            if length is None or abs(length - expected) > tolerance:
                problems.append(f"it lasts {seconds(length) if length else 'an unknown time'}"
                                f", but {seconds(round(expected, 2))} were asked for")
        if problems:
            return CheckOutcome("fail", self.default_severity, length,
                                "; ".join(problems), [Evidence(p, data=data) for p in problems])
        if not (frames or fps or expected):
            odd = []
            if length is not None and not SANE_SECONDS[0] <= length <= SANE_SECONDS[1]:
                odd.append(f"it lasts {seconds(length)}")
            if video.fps is not None and not SANE_FPS[0] <= video.fps <= SANE_FPS[1]:
                odd.append(f"it plays at {_fps(video.fps)}")
            if odd:
                return CheckOutcome("warn", "low", length, "unusual timing: " + "; ".join(odd),
                                    [Evidence(o, data=data) for o in odd])
            return CheckOutcome("pass", "info", length, f"{described} (no length was asked)")
        return CheckOutcome("pass", "info", length, f"{described}, as asked")


def black_frames(thumbs: np.ndarray) -> np.ndarray:
    """Which frames are black (True per frame)."""
    import numpy as np

    flat = thumbs.reshape(len(thumbs), -1)
    return (flat.mean(axis=1) <= BLACK_MEAN) & (
        np.percentile(flat, BLACK_PERCENTILE, axis=1) <= BLACK_HIGH)


class BlackFramesCheck(VideoCheck):
    """Black frames: a failed generation, or a clip that fades out for too long."""

    id = "video-black-frames"
    description = ("Fails a clip that is black throughout or for half its frames or more; "
                   "warns about a black stretch of 1 s or more.")
    default_severity = "high"

    def judge(self, video: Video, subject: CheckSubject, context: CheckContext
              ) -> CheckOutcome:
        """Score = the share of black frames (0–1)."""
        black = black_frames(video.thumbs)
        share = round(float(black.mean()), 4)
        stretches = runs(black)
        if not stretches:
            return CheckOutcome("pass", "info", 0.0, "no black frames")
        evidence = []
        for start, end in stretches[:MAX_EVIDENCE]:
            where, data = _span(video, start, end)
            evidence.append(Evidence(f"black {where} ({end - start} frame"
                                     f"{'' if end - start == 1 else 's'})", data=data))
        summary = f"{share:.0%} of the frames are black"
        if bool(black.all()):
            return CheckOutcome("fail", self.default_severity, share,
                                "the video is black throughout", evidence)
        if share >= BLACK_FAIL_SHARE:
            return CheckOutcome("fail", "medium", share, summary, evidence)
        longest = max(end - start for start, end in stretches)
        longest_s = _length(video, longest)
        if longest_s is not None and longest_s >= BLACK_WARN_SECONDS - 1e-9:
            return CheckOutcome("warn", "low", share,
                                f"{summary}, for up to {seconds(round(longest_s, 2))} at once",
                                evidence)
        return CheckOutcome("pass", "info", share,
                            f"{summary}, in short stretches (a fade, not a fault)")


class FrozenFramesCheck(VideoCheck):
    """Consecutive near-identical frames: a clip that stops moving."""

    id = "video-frozen-frames"
    description = ("Fails a clip that does not move, or freezes for 2 s or half its length; "
                   "warns about a freeze of 1 s.")

    def judge(self, video: Video, subject: CheckSubject, context: CheckContext
              ) -> CheckOutcome:
        """Score = the longest freeze as a share of the clip (0–1)."""
        import numpy as np

        thumbs = video.thumbs
        if len(thumbs) < 2:
            return CheckOutcome("pass", "info", None, "a single frame: nothing moves or freezes")
        change = np.abs(np.diff(thumbs, axis=0)).reshape(len(thumbs) - 1, -1)
        black = black_frames(thumbs)
        still = ((np.percentile(change, FROZEN_PERCENTILE, axis=1) < FROZEN_CHANGE)
                 & ~(black[:-1] & black[1:]))
        # A run of k still steps is k + 1 frames showing one picture.
        freezes = [(a, b + 1) for a, b in runs(still)]
        total = len(thumbs)
        if not freezes:
            return CheckOutcome("pass", "info", 0.0, "the picture moves throughout")
        longest = max(b - a for a, b in freezes)
        score = round(longest / total, 4)
        evidence = []
        for start, end in freezes[:MAX_EVIDENCE]:
            where, data = _span(video, start, end)
            evidence.append(Evidence(f"the picture stands still {where} ({end - start} "
                                     "frames)", data=data))
        if longest == total:
            return CheckOutcome("fail", "high", score,
                                "the video does not move: every frame is the same picture",
                                evidence)
        longest_s = _length(video, longest)
        summary = (f"the picture freezes for {seconds(round(longest_s, 2))}" if longest_s
                   else f"the picture freezes for {longest} frames")
        if score >= FROZEN_FAIL_SHARE or (longest_s or 0) >= FROZEN_FAIL_SECONDS - 1e-9:
            return CheckOutcome("fail", self.default_severity, score, summary, evidence)
        if (longest_s or 0) >= FROZEN_WARN_SECONDS - 1e-9:
            return CheckOutcome("warn", "low", score, summary, evidence)
        return CheckOutcome("pass", "info", score, "no long freezes")


class VideoResolutionCheck(VideoCheck):
    """The frame size against the brand kit's minimum width and height."""

    id = "video-resolution"
    description = "Fails a clip whose frames are smaller than the project's minimum size."

    def judge(self, video: Video, subject: CheckSubject, context: CheckContext
              ) -> CheckOutcome:
        """Score = the worse side's share of its minimum."""
        width, height = video.width, video.height
        ratios = [side / low for side, low in ((width, context.min_width),
                                               (height, context.min_height)) if low > 0]
        score = round(min(ratios), 3) if ratios else None
        size, minimum = f"{width}×{height}", f"{context.min_width}×{context.min_height}"
        if width >= context.min_width and height >= context.min_height:
            return CheckOutcome("pass", "info", score, f"{size} meets the minimum {minimum}")
        evidence = Evidence(f"the frames are {size} pixels; the project's minimum is {minimum}",
                            region=(0, 0, width, height),
                            data={"width": width, "height": height,
                                  "min_width": context.min_width,
                                  "min_height": context.min_height})
        return CheckOutcome("fail", self.default_severity, score,
                            f"{size} is below the minimum {minimum}", [evidence])
