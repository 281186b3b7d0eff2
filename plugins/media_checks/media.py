"""Decoding audio and video for the media checks, once per asset version, within limits.

Every media check of one asset reads the same bytes; decoding them once (a one-entry cache
keyed by the content hash) keeps four audio checks at the cost of one decode. Limits are
applied before decoding so a hostile or very long file cannot exhaust a check worker:
audio beyond ``MAX_AUDIO_SECONDS`` and video beyond ``MAX_VIDEO_FRAMES`` are analysed in
part, and the checks say so. Undecodable bytes raise :class:`MediaRefused`, which the
checks turn into a ``fail`` whose summary says why; they never raise out of a check.

soundfile (libsndfile: WAV, MP3, Ogg, FLAC), imageio with the ffmpeg binary of
imageio-ffmpeg (MP4, WebM, QuickTime) and numpy are in requirements/ml.txt, not base:
they are imported inside the functions that need them, so a web process without them
still registers the plugin.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageSequence

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Audio", "MediaRefused", "Video", "decode_audio", "decode_video"]

#: Seconds of audio decoded for the signal checks (the duration comes from the header).
MAX_AUDIO_SECONDS = 300.0
#: Frames of video decoded (an hour of marketing video is not a check's job).
MAX_VIDEO_FRAMES = 3600
#: Longer side frames are decoded at: black, frozen and sampled-frame checks need no more.
ANALYSIS_SIDE = 512
#: Longer side of the small grey copies compared for black and frozen frames.
THUMB_SIDE = 64
#: Frames handed to the image checks, spread evenly over the clip.
SAMPLED_FRAMES = 5
#: Media types read with Pillow (animated GIF and WebP, the video fallback formats).
PILLOW_TYPES = ("image/gif", "image/webp")
_FFMPEG_EXTENSIONS = {"video/mp4": ".mp4", "video/webm": ".webm", "video/quicktime": ".mov",
                      "video/x-matroska": ".mkv"}


class MediaRefused(ValueError):
    """The bytes are not audio or video these checks can read; the message says why."""


def _describe(exc: Exception) -> str:
    """The error in words, without memory addresses: outcomes must be deterministic."""
    text = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "the data", str(exc))
    return f"{type(exc).__name__}: {text}"[:200]


@dataclass(frozen=True)
class Audio:
    """Decoded audio: float samples at full scale ±1, one column per channel."""

    samples: np.ndarray  # shape (frames, channels), float32
    rate: int
    duration: float  # seconds, the whole file (from its header)
    channels: int

    @property
    def truncated(self) -> bool:
        """True when only the first ``MAX_AUDIO_SECONDS`` were decoded."""
        return self.duration > MAX_AUDIO_SECONDS + 1e-6

    def mono(self) -> np.ndarray:
        """The channels averaged: what silence detection and speech recognition listen to."""
        return self.samples.mean(axis=1)


@dataclass(frozen=True)
class Video:
    """What the video checks need, decoded once: size, timing, small grey frames, samples."""

    width: int
    height: int
    fps: float | None
    duration: float | None  # seconds; frames / fps when the container does not say
    frame_count: int  # frames decoded (capped at MAX_VIDEO_FRAMES)
    truncated: bool
    thumbs: np.ndarray  # (frames, h, w) float32 grey 0–255, longer side THUMB_SIDE
    #: (frame index, RGB uint8 frame at ANALYSIS_SIDE) spread over the clip.
    samples: list[tuple[int, np.ndarray]] = field(default_factory=list)

    def at(self, index: int) -> float | None:
        """Seconds from the start of frame ``index`` (None without a frame rate)."""
        return round(index / self.fps, 3) if self.fps else None


_lock = threading.Lock()
_cache: dict[tuple[str, str], Any] = {}


def _cached(kind: str, sha256: str, decode: Any) -> Any:
    """Decode once per asset version: the last decoded audio and video are kept."""
    key = (kind, sha256)
    with _lock:
        if key in _cache:
            return _cache[key]
    value = decode()
    with _lock:
        for old in [k for k in _cache if k[0] == kind]:
            del _cache[old]
        _cache[key] = value
    return value


def decode_audio(data: bytes | None, sha256: str = "") -> Audio:
    """Decode WAV, MP3, Ogg or FLAC bytes; raises :class:`MediaRefused`."""
    if not data:
        raise MediaRefused("the asset has no audio data")
    return _cached("audio", sha256 or str(hash(data)), lambda: _decode_audio(data))


def _decode_audio(data: bytes) -> Audio:
    import soundfile as sf

    try:
        info = sf.info(io.BytesIO(data))
        limit = int(MAX_AUDIO_SECONDS * info.samplerate) + 1
        samples, rate = sf.read(io.BytesIO(data), frames=limit, dtype="float32",
                                always_2d=True)
    except Exception as exc:  # libsndfile raises its own error types for broken files
        raise MediaRefused(f"not a readable audio file ({_describe(exc)})") from exc
    if rate <= 0 or samples.size == 0:
        raise MediaRefused("the audio file holds no samples")
    duration = info.frames / info.samplerate if info.frames > 0 else len(samples) / rate
    return Audio(samples=samples, rate=int(rate), duration=float(duration),
                 channels=int(samples.shape[1]))


def decode_video(data: bytes | None, media_type: str, sha256: str = "") -> Video:
    """Decode MP4/WebM (ffmpeg) or animated GIF/WebP (Pillow); raises :class:`MediaRefused`."""
    if not data:
        raise MediaRefused("the asset has no video data")
    kind = media_type.split(";")[0].strip().lower()
    decode = _decode_pillow if kind in PILLOW_TYPES else _decode_ffmpeg
    return _cached("video", sha256 or str(hash(data)), lambda: decode(data, kind))


class _Frames:
    """Collects small grey copies of every frame and full samples at chosen indices."""

    def __init__(self, expected: int) -> None:
        import numpy as np

        count = max(expected, 1)
        self.wanted = {int(round(i)) for i in np.linspace(0, count - 1, SAMPLED_FRAMES)}
        self.thumbs: list[np.ndarray] = []
        self.samples: list[tuple[int, np.ndarray]] = []
        self.last: tuple[int, np.ndarray] | None = None

    def add(self, rgb: np.ndarray) -> None:
        import numpy as np

        index = len(self.thumbs)
        img = Image.fromarray(rgb)
        if max(img.size) > ANALYSIS_SIDE:
            img.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BOX)
        frame = np.asarray(img)
        if index in self.wanted:
            self.samples.append((index, frame))
        self.last = (index, frame)
        small = img.convert("L")
        small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX)
        self.thumbs.append(np.asarray(small, dtype=np.float32))

    def stacked(self) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
        import numpy as np

        samples = list(self.samples)
        if self.last is not None and all(i != self.last[0] for i, _ in samples) and (
                len(samples) < SAMPLED_FRAMES):
            samples.append(self.last)  # fewer frames than the header promised
        return np.stack(self.thumbs), samples


def _decode_ffmpeg(data: bytes, kind: str) -> Video:
    import imageio.v3 as iio

    extension = _FFMPEG_EXTENSIONS.get(kind, ".mp4")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta = iio.immeta(data, extension=extension, plugin="FFMPEG")
            width, height = (int(v) for v in meta.get("source_size") or meta["size"])
            fps = float(meta.get("fps") or 0) or None
            duration = float(meta.get("duration") or 0) or None
            expected = int(round(duration * fps)) if fps and duration else MAX_VIDEO_FRAMES
            scale = min(1.0, ANALYSIS_SIDE / max(width, height))
            size = (max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2))
            frames = _Frames(min(expected, MAX_VIDEO_FRAMES))
            truncated = False
            for rgb in iio.imiter(data, extension=extension, plugin="FFMPEG", size=size):
                if len(frames.thumbs) >= MAX_VIDEO_FRAMES:
                    truncated = True
                    break
                frames.add(rgb[..., :3])
    except Exception as exc:  # ffmpeg reports broken files in many ways
        raise MediaRefused(f"not a readable video file ({_describe(exc)})") from exc
    if not frames.thumbs:
        raise MediaRefused("the video holds no frames")
    thumbs, samples = frames.stacked()
    if duration is None and fps:
        duration = len(thumbs) / fps
    return Video(width, height, fps, duration, len(thumbs), truncated, thumbs, samples)


def _decode_pillow(data: bytes, kind: str) -> Video:
    import numpy as np

    try:
        img = Image.open(io.BytesIO(data))
        width, height = img.size
        if width * height > 50_000_000:
            raise MediaRefused(f"{width}×{height} frames are too large to check")
        count = min(getattr(img, "n_frames", 1), MAX_VIDEO_FRAMES)
        frames = _Frames(count)
        durations: list[float] = []
        for index, frame in enumerate(ImageSequence.Iterator(img)):
            if index >= MAX_VIDEO_FRAMES:
                break
            durations.append(float(frame.info.get("duration") or 0))
            frames.add(np.asarray(frame.convert("RGB")))
    except MediaRefused:
        raise
    except Exception as exc:  # Pillow raises many types for broken animations
        raise MediaRefused(f"not a readable animation ({_describe(exc)})") from exc
    if not frames.thumbs:
        raise MediaRefused("the animation holds no frames")
    total_ms = sum(durations)
    fps = len(durations) * 1000 / total_ms if total_ms > 0 else None
    thumbs, samples = frames.stacked()
    truncated = getattr(img, "n_frames", 1) > MAX_VIDEO_FRAMES
    return Video(width, height, fps, total_ms / 1000 if total_ms > 0 else None, len(thumbs),
                 truncated, thumbs, samples)
