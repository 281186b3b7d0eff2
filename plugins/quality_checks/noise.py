"""Structureless noise: an image that is random pixels, not a picture.

The blank-image check passes noise as "not blank" (its grey-level spread is large), and the
demo image model draws exactly that until a real model is registered, so a reviewer needs
a warning before approving it.

What tells noise from a picture here is how far structure reaches. In a picture, a pixel
resembles its neighbours several pixels away (an edge, a face, a sky run on), so the
correlation between the image and itself shifted by 8 pixels stays high (photos measured
0.48–0.87). In white noise it is 0 at every distance, and in the demo model's output (noise
smoothed by its decoder) it is high at 1 pixel (≈ 0.85, like a photo) but gone by 8 pixels
(−0.1–0.1). Text on a plain background also loses correlation quickly, so a second measure
is needed: how unevenly detail is spread. A picture has busy and calm areas (the spread of
8×8-block standard deviations, relative to their mean, was 0.5–2.7 on pictures); noise is
equally busy everywhere (0.06–0.44). A third measure keeps dense text and fine
patterns out: pictures have edges, so the differences between neighbouring pixels are
mostly small with a few large jumps (kurtosis 7–300 on clean pictures and text; photos
under heavy added noise fall to 3.5, but keep their structure at 8 pixels), while noise's
differences are bell-shaped (2.0–5.0). Only an image noise-like on all three counts is
flagged. Measured on images not used to set the thresholds: 26 of 26 noise images (white,
Gaussian, binary, JPEG/WebP-compressed, upscaled, and the demo model's text-to-image and
image-to-image output) warned, 69 of 69 pictures (photo crops, screenshots, diagrams,
icons, banners with text, posterised and recompressed photos) passed. An earlier set
found one miss: a 64×64 crop of an even roof-tile texture warns.

The check warns (overridable with a reason), never blocks: a photo of a fine, even texture
(gravel, static on a screen) can look like noise to it.
"""

from __future__ import annotations

from PIL import Image

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.quality_checks.image import ImageRefused, _decode_rgb, _unreadable, open_image

__all__ = ["StructurelessNoiseCheck", "noise_statistics"]

#: Longer side the analysis works at (averaged down, which keeps white noise white).
ANALYSIS_SIDE = 512
#: Shift, in analysis pixels, at which a picture still resembles itself.
LAG = 8
#: Correlation at LAG below which structure is missing…
MAX_CORRELATION = 0.25
#: …and detail unevenness (coefficient of variation of 8×8-block spreads) below which it
#: is spread evenly, as in noise. Both must hold.
MAX_UNEVENNESS = 0.75
BLOCK = 8
#: …and the kurtosis of neighbouring-pixel differences below which there are no edges.
MAX_EDGE_KURTOSIS = 6.0
#: Grey-level spread below which the image is blank (the blank-image check reports that).
BLANK_STD = 3.0


def _correlation(a: object, b: object) -> float:
    """Pearson correlation; 1.0 when either side is constant (flat is not noise)."""
    import numpy as np

    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    x = x - x.mean()
    y = y - y.mean()
    scale = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / scale) if scale > 1e-9 else 1.0


def noise_statistics(data: bytes | None) -> dict[str, float] | None:
    """Correlation at 1 and LAG pixels, detail unevenness, edge kurtosis and grey spread.

    None when the image is too small to judge (under 4 × LAG pixels on a side). Raises
    :class:`ImageRefused` for bytes that are not a readable image.
    """
    import numpy as np

    rgb = _decode_rgb(open_image(data), None, Image.Resampling.BOX)
    if max(rgb.size) > ANALYSIS_SIDE:
        rgb.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BOX)
    grey = np.asarray(rgb, dtype=np.float64) @ np.array([0.299, 0.587, 0.114])
    height, width = grey.shape
    if min(height, width) < 4 * LAG:
        return None

    def at(lag: int) -> float:
        return (_correlation(grey[:, :-lag], grey[:, lag:])
                + _correlation(grey[:-lag], grey[lag:])) / 2

    rows, cols = height // BLOCK * BLOCK, width // BLOCK * BLOCK
    spreads = grey[:rows, :cols].reshape(rows // BLOCK, BLOCK, cols // BLOCK, BLOCK).std(
        axis=(1, 3))
    mean_spread = float(spreads.mean())
    unevenness = float(spreads.std()) / mean_spread if mean_spread > 1e-9 else 0.0
    steps = np.concatenate([np.diff(grey, axis=1).ravel(), np.diff(grey, axis=0).ravel()])
    steps -= steps.mean()
    variance = float((steps * steps).mean())
    kurtosis = float((steps ** 4).mean()) / variance ** 2 if variance > 1e-9 else 0.0
    return {"neighbour_correlation": at(1), "correlation_at_lag": at(LAG),
            "unevenness": unevenness, "edge_kurtosis": kurtosis,
            "std_dev": float(grey.std())}


class StructurelessNoiseCheck(Check):
    """Images that are random noise rather than a picture (e.g. the demo image model's)."""

    id = "noise-image"
    modalities = ("image",)
    version = "1.0"
    description = ("Warns when the image looks like random noise, not a picture: structure "
                   "that does not reach 8 pixels, detail spread evenly everywhere and no "
                   "edges.")
    default_severity = "medium"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Score = correlation of the image with itself shifted by LAG pixels (low: noise)."""
        try:
            stats = noise_statistics(subject.data)
        except ImageRefused as exc:
            return _unreadable(str(exc))
        if stats is None:
            return CheckOutcome("pass", "info", None, "too small to judge whether it is noise")
        score = round(stats["correlation_at_lag"], 3)
        if stats["std_dev"] < BLANK_STD:
            return CheckOutcome("pass", "info", score, "blank, not noise (see the blank check)")
        data = {key: round(value, 3) for key, value in stats.items()}
        if (stats["correlation_at_lag"] < MAX_CORRELATION
                and stats["unevenness"] < MAX_UNEVENNESS
                and stats["edge_kurtosis"] < MAX_EDGE_KURTOSIS):
            width, height = subject.width, subject.height
            if not (width and height):
                width, height = open_image(subject.data).size
            evidence = Evidence(
                "This image looks like random noise, not a picture: nothing in it lines up "
                "beyond a few pixels, and detail is spread evenly over the whole image.",
                region=(0, 0, width, height), data=data)
            return CheckOutcome("warn", self.default_severity, score,
                                "looks like random noise, not a picture", [evidence])
        return CheckOutcome("pass", "info", score, "has the structure of a picture")
