"""Which files Assay signs and how: embedded for images, a sidecar for text.

Formats are decided from the bytes, not from a client's Content-Type or file name, so a
mislabelled upload is read as what it is.
"""

from __future__ import annotations

EMBEDDED = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
SIDECAR = {"text/plain": "txt", "text/markdown": "md"}
SIDECAR_TYPE = "application/c2pa"
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
          (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"), (b"%PDF-", "application/pdf"),
          (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"), (b"fLaC", "audio/flac"),
          (b"ID3", "audio/mpeg"))


def base_type(media_type: str) -> str:
    """``text/plain; charset=utf-8`` → ``text/plain``."""
    return media_type.split(";")[0].strip().lower()


def can_sign(media_type: str) -> bool:
    """Signable formats (PNG, JPEG, WebP embedded; text and Markdown by sidecar)."""
    return base_type(media_type) in EMBEDDED or base_type(media_type) in SIDECAR


def is_sidecar(media_type: str) -> bool:
    """Text carries its manifest beside it, bound to its exact bytes."""
    return base_type(media_type) in SIDECAR


def extension(media_type: str) -> str:
    """File extension for stored signed files."""
    return {**EMBEDDED, **SIDECAR}.get(base_type(media_type), "bin")


def sniff(data: bytes, filename: str = "") -> str | None:
    """The media type the bytes are, or None when they are not one we recognise.

    Text is UTF-8 without NUL bytes; ``.md`` names make it Markdown.
    """
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        return "image/avif" if brand in (b"avif", b"avis") else "video/mp4"
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
