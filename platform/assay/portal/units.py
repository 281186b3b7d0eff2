"""Units in words for generator settings whose label does not say them.

The Param contract has a label and help but no unit; audio and video settings are lengths
and rates ("duration", "fps"), and a bare number input reading "10" does not tell a
marketer ten what. Known setting names get their unit said in words under the input,
unless the plugin's label already says it ("Length (frames)").
"""

from __future__ import annotations

from assay.plugins.contracts import Param

#: Parameter name → (unit in words, words that show the label already names it).
UNITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "duration": ("seconds", ("second", "sec", "(s)")),
    "duration_seconds": ("seconds", ("second", "sec", "(s)")),
    "seconds": ("seconds", ("second", "sec")),
    "length_seconds": ("seconds", ("second", "sec")),
    "max_duration": ("seconds", ("second", "sec")),
    "fps": ("frames per second", ("per second", "fps")),
    "frame_rate": ("frames per second", ("per second", "fps")),
    "frames": ("frames", ("frame",)),
    "num_frames": ("frames", ("frame",)),
    "sample_rate": ("samples per second (hertz)", ("hz", "hertz", "per second")),
    "speaking_rate": ("times the normal speed (1 is normal)", ("speed", "normal", "×")),
}


def unit_for(param: Param) -> str:
    """The unit in words to show beside ``param``'s input, or "" when none is needed."""
    if param.type not in (int, float) or param.choices is not None:
        return ""
    known = UNITS.get(param.name)
    if known is None:
        return ""
    unit, already = known
    said = f"{param.label} {param.help}".lower()
    return "" if any(word in said for word in already) else unit
