"""Comments anchored to a time in audio and video: a moment (start only) or a range.

Kept apart from ``policy.AddComment`` so the rules for seconds live in one place that the
REST endpoint and the portal both reach through the same service. Text spans and image
regions have no meaning on a sound or a clip, and a time has none on a text or an image:
each is refused in words, never silently dropped.
"""

from __future__ import annotations

import math
from typing import Any

from assay.core.exceptions import InvalidInput

#: Asset kinds a time position means something in.
TIMED_KINDS = ("audio", "video")
_KIND_WORDS = {"audio": "an audio asset", "video": "a video", "text": "a text",
               "image": "an image"}


def _seconds(value: Any) -> float | None:
    """A finite, non-boolean number as float; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def duration_of(asset: Any) -> float | None:
    """The asset's length in seconds from its metadata, when the generator recorded it."""
    meta = asset.metadata if isinstance(getattr(asset, "metadata", None), dict) else {}
    seconds = _seconds(meta.get("duration_seconds"))
    return seconds if seconds is not None and seconds > 0 else None


def refuse_misplaced_anchor(asset: Any, *, span: Any, region: Any) -> None:
    """A text span or an image region on audio or video is refused with a sentence.

    Raises:
        InvalidInput: with ``span`` or ``region`` in its errors.
    """
    if asset.kind not in TIMED_KINDS:
        return
    noun = _KIND_WORDS.get(asset.kind, asset.kind)
    if span is not None:
        raise InvalidInput(f"This is {noun}: it has no text passage to anchor a comment "
                           "to. Comment at a time position instead.",
                           errors={"span": [f"not a text asset ({asset.kind})"]})
    if region is not None:
        raise InvalidInput(f"This is {noun}: it has no image area to mark. Comment at a "
                           "time position instead.",
                           errors={"region": [f"not an image asset ({asset.kind})"]})


def check_time_anchor(asset: Any, start: Any, end: Any) -> tuple[float | None, float | None]:
    """The validated (start, end) in seconds; (None, None) when no time was given.

    Start is at least 0; an end, when given, is after the start; both lie within the
    asset's duration when the metadata knows it. Only audio and video take a time.

    Raises:
        InvalidInput: with ``time`` in its errors, the reason in words.
    """
    if start is None and end is None:
        return None, None
    if asset.kind not in TIMED_KINDS:
        noun = _KIND_WORDS.get(asset.kind, f"a {asset.kind}")
        raise InvalidInput(f"Only audio and video comments can be anchored to a time; this "
                           f"is {noun}.", errors={"time": [f"not audio or video ({asset.kind})"]})
    if start is None:
        raise InvalidInput("A time range needs its start as well as its end.",
                           errors={"time": ["time_start required with time_end"]})
    begin, finish = _seconds(start), _seconds(end) if end is not None else None
    if begin is None or (end is not None and finish is None):
        raise InvalidInput("Times are numbers of seconds, such as 12 or 12.5.",
                           errors={"time": ["not a number of seconds"]})
    if begin < 0:
        raise InvalidInput("A time cannot be before the start (0 seconds).",
                           errors={"time": ["time_start below 0"]})
    if finish is not None and finish <= begin:
        raise InvalidInput("A time range must end after it starts.",
                           errors={"time": ["time_end not after time_start"]})
    length = duration_of(asset)
    if length is not None and max(begin, finish or 0.0) > length:
        raise InvalidInput(f"The {asset.kind} is {length:g} seconds long; choose a time within "
                           "it.", errors={"time": [f"beyond the duration ({length:g} s)"]})
    return begin, finish
