"""What a job asked a clip to be, read from its validated parameters, and shared wording.

Generators name their parameters themselves (``duration`` for music, ``frames`` and
``fps`` for video); the names read here are the ones the first-party generators use,
with a few common spellings, so a third-party generator that says ``duration_seconds``
or ``num_frames`` is compared with its request too.
"""

from __future__ import annotations

from typing import Any

from assay import CheckOutcome

__all__ = ["asked_duration", "asked_fps", "asked_frames", "seconds", "unreadable"]

DURATION_KEYS = ("duration", "duration_seconds", "duration_s", "seconds", "length_seconds")
FRAME_KEYS = ("frames", "num_frames", "frame_count")
FPS_KEYS = ("fps", "frame_rate")
#: Severity when the bytes cannot be decoded at all: the asset is broken, whatever the check.
UNREADABLE_SEVERITY = "high"


def _number(parameters: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = parameters.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) and value > 0:
            return float(value)
    return None


def asked_duration(parameters: dict[str, Any]) -> float | None:
    """Seconds the job asked for, or None when it asked for none (speech follows its script)."""
    return _number(parameters, DURATION_KEYS)


def asked_frames(parameters: dict[str, Any]) -> int | None:
    """Frames the job asked for, or None."""
    value = _number(parameters, FRAME_KEYS)
    return int(value) if value is not None else None


def asked_fps(parameters: dict[str, Any]) -> float | None:
    """Frames per second the job asked for, or None."""
    return _number(parameters, FPS_KEYS)


def seconds(value: float) -> str:
    """'1.5 s', '10 s', '2 min 5 s': durations as people read them."""
    if value >= 60:
        minutes, rest = divmod(round(value), 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text} s"


def unreadable(what: str, reason: str) -> CheckOutcome:
    """A broken file fails every check that reads it, saying why."""
    return CheckOutcome("fail", UNREADABLE_SEVERITY, None, f"could not read the {what}: {reason}")
