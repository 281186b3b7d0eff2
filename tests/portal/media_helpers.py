"""Small real audio and video files, stored as assets, for the portal's media tests.

A WAV tone through soundfile and an H.264 MP4 (or a VP9 WebM) through the ffmpeg that
imageio-ffmpeg ships, each with ``duration_seconds`` in its metadata as the generators
record it; a video may carry a PNG poster stored beside it, as ``store_outputs`` does.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import tempfile
from typing import Any

import imageio_ffmpeg
import numpy as np
import soundfile
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from assay.studio.models import Asset, Project

_counter = itertools.count(1)
RATE = 16_000


def wav_bytes(seconds: float = 2.0, *, pitch: float = 440.0) -> bytes:
    """A quiet sine tone as 16-bit mono WAV."""
    t = np.arange(int(RATE * seconds)) / RATE
    buffer = io.BytesIO()
    soundfile.write(buffer, 0.2 * np.sin(2 * np.pi * pitch * t), RATE, format="WAV",
                    subtype="PCM_16")
    return buffer.getvalue()


def video_bytes(seconds: float = 2.0, *, fps: int = 8, size: int = 64,
                container: str = "mp4") -> bytes:
    """A moving gradient: H.264 in MP4 (faststart) or VP9 in WebM."""
    codec, extra = (("libx264", ["-movflags", "+faststart"]) if container == "mp4"
                    else ("libvpx-vp9", ["-b:v", "200k"]))
    handle, path = tempfile.mkstemp(suffix=f".{container}")
    os.close(handle)
    try:
        writer = imageio_ffmpeg.write_frames(path, (size, size), fps=fps, codec=codec,
                                             pix_fmt_out="yuv420p", output_params=extra,
                                             macro_block_size=16)
        writer.send(None)
        for n in range(int(seconds * fps)):
            frame = np.zeros((size, size, 3), dtype=np.uint8)
            frame[:, :, 0] = (np.arange(size) * 4 + n * 16) % 256
            frame[:, :, 1] = 90
            writer.send(frame.tobytes())
        writer.close()
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def png_bytes(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def media_asset(project: Project, creator: Any, kind: str, data: bytes, media_type: str,
                *, seconds: float | None = 2.0, poster: bytes | None = None,
                width: int | None = None, height: int | None = None) -> Asset:
    """A stored audio or video asset with its duration (and poster) in its metadata."""
    n = next(_counter)
    ext = media_type.split("/")[-1].replace("mpeg", "mp3")
    metadata: dict[str, Any] = {}
    if seconds is not None:
        metadata["duration_seconds"] = seconds
    if poster is not None:
        metadata["poster"] = default_storage.save(f"media-test-{n}-poster.png",
                                                  ContentFile(poster))
    asset = Asset(project=project, kind=kind, media_type=media_type, byte_size=len(data),
                  sha256=hashlib.sha256(data).hexdigest(), created_by=creator,
                  width=width, height=height, metadata=metadata)
    asset.file.save(f"media-test-{n}.{ext}", ContentFile(data), save=False)
    asset.save()
    return asset
