"""Frames to file bytes: MP4 (H.264 through the ffmpeg inside imageio-ffmpeg), GIF, WebP.

The platform promises that a seed reproduces an asset byte for byte, so every encoder
here is run with fixed settings: ffmpeg with ``+bitexact`` (no encoder version string,
no creation time), container metadata dropped and one encoder thread (x264's output
depends on its thread count, which would otherwise follow the machine's CPU count);
Pillow without timestamps or extra chunks. GIF and WebP are the fallback a project may
pick where MP4 playback is not wanted; both need only Pillow.

imageio-ffmpeg and Pillow are imported lazily: the web process imports this module's
package to validate parameters and never encodes anything.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Output formats and their media types; "mp4" is the default.
MEDIA_TYPES = {"mp4": "video/mp4", "gif": "image/gif", "webp": "image/webp"}

#: ffmpeg output flags for reproducible H.264: browsers play yuv420p baseline-compatible
#: streams; +faststart puts the index first so playback starts before the download ends.
_MP4_FLAGS = (
    "-preset", "medium", "-crf", "18", "-threads", "1",
    "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
    "-movflags", "+faststart",
)


def encode_frames(frames: Sequence[Any], fps: int, fmt: str) -> bytes:
    """Encode RGB uint8 frames (``H x W x 3`` numpy arrays) as ``fmt`` at ``fps``."""
    if fmt == "mp4":
        return _mp4(frames, fps)
    if fmt in ("gif", "webp"):
        return _animated_image(frames, fps, fmt)
    raise ValueError(f"unknown video format {fmt!r} (known: {', '.join(MEDIA_TYPES)})")


def png(frame: Any) -> bytes:
    """One frame as PNG bytes, without metadata (the poster shown before a video plays)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return buffer.getvalue()


def _mp4(frames: Sequence[Any], fps: int) -> bytes:
    """H.264 in MP4, yuv420p (sizes are multiples of 8, so even as yuv420p needs)."""
    import imageio_ffmpeg

    height, width = frames[0].shape[:2]
    with tempfile.TemporaryDirectory(prefix="assay-video-") as tmp:
        path = Path(tmp) / "out.mp4"
        writer = imageio_ffmpeg.write_frames(
            str(path), (width, height), fps=fps, codec="libx264", quality=None,
            pix_fmt_in="rgb24", pix_fmt_out="yuv420p", macro_block_size=8,
            ffmpeg_log_level="error", output_params=list(_MP4_FLAGS),
        )
        writer.send(None)  # start ffmpeg
        for frame in frames:
            writer.send(frame.tobytes())
        writer.close()
        return path.read_bytes()


def _animated_image(frames: Sequence[Any], fps: int, fmt: str) -> bytes:
    """An endlessly looping GIF or lossless WebP; each frame shown 1/fps seconds."""
    from PIL import Image

    pictures = [Image.fromarray(frame) for frame in frames]
    buffer = io.BytesIO()
    options: dict[str, Any] = {"save_all": True, "append_images": pictures[1:], "loop": 0,
                               "duration": round(1000 / fps)}
    if fmt == "webp":
        options.update(lossless=True, method=4)
    else:
        options.update(optimize=False, disposal=1)
    pictures[0].save(buffer, format=fmt.upper(), **options)
    return buffer.getvalue()
