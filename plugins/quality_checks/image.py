"""Image checks: minimum resolution, blank or near-uniform images, near-duplicates.

Images are decoded with Pillow behind one guard (:func:`open_image`): the size is read from
the header and anything over 50 megapixels is refused before a pixel is decoded, and Pillow's
decompression-bomb warning is treated as an error. Undecodable bytes never raise out of a
check; they give a ``fail`` outcome whose summary says why.

numpy is imported inside the functions that need it: it is not in requirements/base.txt
today, and a missing numpy must not stop the text checks of this plugin from registering.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from typing import TYPE_CHECKING

from PIL import Image

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "BlankImageCheck",
    "ImageRefused",
    "MinimumResolutionCheck",
    "NearDuplicateCheck",
    "hamming",
    "open_image",
    "perceptual_hash",
]

#: Largest image decoded (pixels). Generated and uploaded marketing images are far smaller.
MAX_PIXELS = 50_000_000
#: Longer side the blank check samples down to; statistics barely move, time does.
ANALYSIS_SIDE = 1024
#: Blank-image thresholds on the 0–255 grey scale and on the share of the dominant colour
#: (colours binned to 16 levels per channel).
NEAR_UNIFORM_STD = 3.0
NEAR_UNIFORM_SHARE = 0.99
LOW_DETAIL_STD = 12.0
LOW_DETAIL_SHARE = 0.95
#: Perceptual hashes at most this many bits apart (of 64) count as near-duplicates.
DUPLICATE_MAX_DISTANCE = 6
#: Severity when the bytes cannot be decoded at all: the asset is broken, whatever the check.
UNREADABLE_SEVERITY = "high"


class ImageRefused(ValueError):
    """The bytes are not an image this module will decode; the message says why."""


def _describe(exc: Exception) -> str:
    """The error in words, without memory addresses: outcomes must be deterministic."""
    text = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "the data", str(exc))
    return f"{type(exc).__name__}: {text}"[:200]


def open_image(data: bytes | None) -> Image.Image:
    """Open ``data`` lazily (header only), refusing unreadable or oversized images."""
    if not data:
        raise ImageRefused("the asset has no image data")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ImageRefused(f"refused as a decompression bomb ({exc})") from exc
        except Image.UnidentifiedImageError as exc:
            raise ImageRefused("not an image format Pillow can read") from exc
        except Exception as exc:  # Pillow raises many types for hostile or broken bytes
            raise ImageRefused(f"not a readable image ({_describe(exc)})") from exc
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageRefused(f"the image header gives an empty size {width}×{height}")
    if width * height > MAX_PIXELS:
        raise ImageRefused(f"{width}×{height} is {width * height / 1e6:.0f} megapixels, over "
                           f"the {MAX_PIXELS // 1_000_000} megapixel limit")
    return img


def _decode_rgb(img: Image.Image, max_side: int | None, resample: Image.Resampling) -> Image.Image:
    """Decode the first frame to RGB, transparent areas shown on white as a viewer would."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            if max_side is not None:
                img.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale
            img.load()
            if img.mode.startswith("I") or img.mode == "F":
                img = _to_8bit_grey(img)
            if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                rgba = img.convert("RGBA")
                rgb = Image.new("RGB", rgba.size, (255, 255, 255))
                rgb.paste(rgba, mask=rgba.getchannel("A"))
            else:
                rgb = img.convert("RGB")
            if max_side is not None and max(rgb.size) > max_side:
                rgb.thumbnail((max_side, max_side), resample)
            return rgb
        except Exception as exc:  # truncated files, bad chunks, unsupported modes…
            raise ImageRefused(f"the image could not be decoded ({_describe(exc)})") from exc


def _to_8bit_grey(img: Image.Image) -> Image.Image:
    """16-bit and float greyscale scaled to 0–255 (Pillow's own conversion clips them)."""
    import numpy as np

    values = np.nan_to_num(np.asarray(img, dtype=np.float64))
    if img.mode == "F":
        values = values * 255 if values.max() <= 1.0 else values
    else:
        values = values / 257  # 16-bit samples, the common case for "I" modes
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))


def _unreadable(summary: str) -> CheckOutcome:
    return CheckOutcome("fail", UNREADABLE_SEVERITY, None, f"could not read the image: {summary}")


# --- minimum resolution -------------------------------------------------------------------


class MinimumResolutionCheck(Check):
    """Width and height against the project's minimum."""

    id = "min-resolution"
    modalities = ("image",)
    version = "1.0"
    description = "Fails images smaller than the project's minimum width or height."
    default_severity = "medium"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Use the recorded size, or read it from the header; score = worst side's ratio."""
        width, height = subject.width, subject.height
        if not (width and height):
            try:
                width, height = open_image(subject.data).size
            except ImageRefused as exc:
                return _unreadable(str(exc))
        ratios = [side / minimum for side, minimum in
                  ((width, context.min_width), (height, context.min_height)) if minimum > 0]
        score = round(min(ratios), 3) if ratios else None
        size = f"{width}×{height}"
        minimum = f"{context.min_width}×{context.min_height}"
        if width >= context.min_width and height >= context.min_height:
            return CheckOutcome("pass", "info", score, f"{size} meets the minimum {minimum}")
        evidence = Evidence(
            f"image is {size} pixels; the project's minimum is {minimum}",
            region=(0, 0, width, height),
            data={"width": width, "height": height, "min_width": context.min_width,
                  "min_height": context.min_height})
        return CheckOutcome("fail", self.default_severity, score,
                            f"{size} is below the minimum {minimum}", [evidence])


# --- blank image --------------------------------------------------------------------------


def image_statistics(data: bytes | None) -> tuple[tuple[int, int], float, float, str]:
    """(original size, grey standard deviation, dominant colour share, dominant colour hex).

    The image is sampled down with nearest-neighbour so that the spread of values is not
    smoothed away the way averaging filters would smooth it.
    """
    import numpy as np

    img = open_image(data)
    size = img.size
    rgb = np.asarray(_decode_rgb(img, ANALYSIS_SIDE, Image.Resampling.NEAREST))
    grey = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    binned = (rgb >> 4).astype(np.int32)
    codes = (binned[..., 0] << 8) | (binned[..., 1] << 4) | binned[..., 2]
    counts = np.bincount(codes.ravel(), minlength=4096)
    top = int(counts.argmax())
    share = float(counts[top]) / codes.size
    centre = [((top >> shift) & 15) * 16 + 8 for shift in (8, 4, 0)]
    colour = "#" + "".join(f"{c:02x}" for c in centre)
    return size, float(grey.std()), share, colour


class BlankImageCheck(Check):
    """Blank, near-uniform or almost detail-free images (a failed or filtered generation)."""

    id = "blank-image"
    modalities = ("image",)
    version = "1.0"
    description = ("Fails blank or near-uniform images and warns about images with very "
                   "little detail, from the grey-level spread and the dominant colour's share.")
    default_severity = "high"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Score = standard deviation of grey levels (0–255); low means uniform."""
        try:
            (width, height), std, share, colour = image_statistics(subject.data)
        except ImageRefused as exc:
            return _unreadable(str(exc))
        data = {"std_dev": round(std, 2), "dominant_share": round(share, 4),
                "dominant_colour": colour}
        described = f"grey-level spread {std:.1f}, dominant colour {colour} covers {share:.0%}"
        region = (0, 0, width, height)
        if std < NEAR_UNIFORM_STD or share >= NEAR_UNIFORM_SHARE:
            evidence = Evidence(f"the image is blank or near-uniform: {described}",
                                region=region, data=data)
            return CheckOutcome("fail", self.default_severity, round(std, 2),
                                "blank or near-uniform image", [evidence])
        if std < LOW_DETAIL_STD or share >= LOW_DETAIL_SHARE:
            evidence = Evidence(f"the image has very little detail: {described}",
                                region=region, data=data)
            return CheckOutcome("warn", "low", round(std, 2), "very little detail", [evidence])
        return CheckOutcome("pass", "info", round(std, 2), f"not blank: {described}")


# --- near-duplicates ----------------------------------------------------------------------


@functools.cache
def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II basis: ``M @ x`` is the DCT of the column vector ``x``."""
    import numpy as np

    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    m[0, :] = np.sqrt(1.0 / n)
    return m


def perceptual_hash(data: bytes) -> str:
    """64-bit DCT perceptual hash as 16 hex digits; raises :class:`ImageRefused`.

    Grey 32×32, 2-D DCT, the 8×8 lowest frequencies, one bit per coefficient above their
    median. Resizing, re-encoding and mild colour changes move few bits; a different
    picture moves about half of them.
    """
    import numpy as np

    rgb = _decode_rgb(open_image(data), 512, Image.Resampling.LANCZOS)
    small = rgb.convert("L").resize((32, 32), Image.Resampling.LANCZOS, reducing_gap=2.0)
    pixels = np.asarray(small, dtype=np.float64)
    dct = _dct_matrix(32)
    low = (dct @ pixels @ dct.T)[:8, :8]
    # Rounding makes flat images (coefficients that are floating-point noise) hash the
    # same on every machine.
    low = np.round(low, 6).ravel()
    bits = low > np.median(low)
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes; raises ValueError for non-hex input."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


class NearDuplicateCheck(Check):
    """Near-duplicates of the project's approved images, by perceptual hash."""

    id = "near-duplicate"
    modalities = ("image",)
    version = "1.0"
    description = ("Warns when the image is a near-duplicate of an approved image in the "
                   "project (perceptual hash within 6 of 64 bits).")
    default_severity = "medium"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Score = distance to the closest approved image; ``metadata['phash']`` is stored."""
        try:
            phash = perceptual_hash(subject.data or b"")
        except ImageRefused as exc:
            return _unreadable(str(exc))
        metadata = {"phash": phash}
        closest_by_asset: dict[str, int] = {}
        for asset_id, other in context.approved_image_hashes:
            if asset_id == subject.asset_id:
                continue  # an earlier version of this very asset is not a duplicate
            try:
                distance = hamming(phash, other)
            except (TypeError, ValueError):
                continue  # a malformed stored hash must not stop the check
            # An asset may be listed once per approved version: report it once, closest.
            closest_by_asset[asset_id] = min(distance, closest_by_asset.get(asset_id, 64))
        distances = sorted((d, a) for a, d in closest_by_asset.items())
        if not distances:
            return CheckOutcome("pass", "info", None, "no approved images to compare with",
                                metadata=metadata)
        closest = distances[0][0]
        matches = [(d, a) for d, a in distances if d <= DUPLICATE_MAX_DISTANCE]
        if not matches:
            return CheckOutcome(
                "pass", "info", float(closest),
                f"no near-duplicate among {len(distances)} approved image"
                f"{'' if len(distances) == 1 else 's'} (closest differs in {closest} of 64 "
                "bits)", metadata=metadata)
        evidence = [Evidence(
            f"looks like approved asset {asset_id} (perceptual hash differs in "
            f"{distance} of 64 bits)", data={"asset_id": asset_id, "distance": distance})
            for distance, asset_id in matches]
        return CheckOutcome(
            "warn", self.default_severity, float(closest),
            f"near-duplicate of {len(matches)} approved image"
            f"{'' if len(matches) == 1 else 's'}", evidence, metadata)
