"""Which files Assay signs and how: embedded where C2PA can embed, a sidecar otherwise.

Embedded: images (PNG, JPEG, WebP, GIF), audio (WAV, MP3, FLAC, M4A) and MP4 video, each
only while the installed c2pa library says it can write that type (asked at run time, so
an upgrade that drops one refuses it in words instead of failing mid-signing). Sidecar
(a ``.c2pa`` manifest store bound to the exact bytes by a data hash): text, Markdown and
Ogg audio, which c2pa-python 0.38.1 cannot embed into.

Formats are decided from the bytes, not from a client's Content-Type or file name, so a
mislabelled upload is read as what it is.
"""

from __future__ import annotations

from functools import cache

import c2pa

#: Types Assay embeds into, with the extension of stored signed files. Aliases
#: (audio/x-wav, audio/mp3) are what browsers and encoders call the same formats.
_EMBEDDABLE = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp",
               "image/gif": "gif", "audio/wav": "wav", "audio/x-wav": "wav",
               "audio/wave": "wav", "audio/vnd.wave": "wav", "audio/mpeg": "mp3",
               "audio/mp3": "mp3", "audio/flac": "flac", "audio/mp4": "m4a",
               "video/mp4": "mp4"}
SIDECAR = {"text/plain": "txt", "text/markdown": "md", "audio/ogg": "ogg"}
SIDECAR_TYPE = "application/c2pa"
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
          (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"), (b"%PDF-", "application/pdf"),
          (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"), (b"fLaC", "audio/flac"),
          (b"OggS", "audio/ogg"))
#: ISO BMFF brands of audio-only files (M4A); any other brand but AVIF's is MP4 video.
_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"M4P ")


@cache
def _writable() -> frozenset[str]:
    return frozenset(t.lower() for t in c2pa.Builder.get_supported_mime_types())


def embedded_types() -> dict[str, str]:
    """The embeddable types the installed c2pa library writes (type → extension)."""
    return {t: ext for t, ext in _EMBEDDABLE.items() if t in _writable()}


def _mpeg_frame(data: bytes) -> bool:
    """An MPEG audio frame header (MP3 without an ID3 tag): 11 sync bits, a defined
    version and layer, a bitrate index that is neither free nor bad."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version, layer, bitrate = (data[1] >> 3) & 3, (data[1] >> 1) & 3, data[2] >> 4
    return version != 1 and layer != 0 and bitrate not in (0, 15)


def _after_id3(data: bytes) -> str:
    """MP3, unless a FLAC stream follows the ID3v2 tag (c2pa puts its manifest in one)."""
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    end = 10 + size + (10 if len(data) > 5 and data[5] & 0x10 else 0)
    return "audio/flac" if data[end:end + 4] == b"fLaC" else "audio/mpeg"


def base_type(media_type: str) -> str:
    """``text/plain; charset=utf-8`` → ``text/plain``."""
    return media_type.split(";")[0].strip().lower()


def can_sign(media_type: str) -> bool:
    """Signable formats: embedded (see ``embedded_types``) or by sidecar (text, Ogg)."""
    return base_type(media_type) in embedded_types() or base_type(media_type) in SIDECAR


def is_sidecar(media_type: str) -> bool:
    """Text and Ogg carry their manifest beside them, bound to their exact bytes."""
    return base_type(media_type) in SIDECAR


def extension(media_type: str) -> str:
    """File extension for stored signed files."""
    return {**_EMBEDDABLE, **SIDECAR}.get(base_type(media_type), "bin")


def sniff(data: bytes, filename: str = "") -> str | None:
    """The media type the bytes are, or None when they are not one we recognise.

    Text is UTF-8 without NUL bytes; ``.md`` names make it Markdown.
    """
    if data.startswith(b"ID3"):
        return _after_id3(data)
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "image/avif"
        return "audio/mp4" if brand in _AUDIO_BRANDS else "video/mp4"
    if _mpeg_frame(data):
        return "audio/mpeg"
    if b"\x00" not in data[:8192]:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        head = data[:4096].lstrip().lower()
        if head.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
            return "image/svg+xml"
        if filename.lower().endswith((".md", ".markdown")):
            return "text/markdown"
        return "text/plain"
    return None
