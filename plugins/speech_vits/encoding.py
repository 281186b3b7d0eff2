"""Waveforms to WAV, MP3 or Ogg Vorbis bytes, the same bytes for the same samples.

soundfile's bundled libsndfile (1.2.2) writes all three: WAV as 16-bit PCM, MP3 through
LAME, Ogg through libvorbis. WAV and MP3 are byte-stable as written. An Ogg stream
carries a serial number that libsndfile draws at random on every write, so the same
samples give different bytes; :func:`_pin_ogg_serial` rewrites that serial (and each
page's checksum) to a fixed value, which keeps the platform's promise that a seed
reproduces its asset byte for byte. Nothing else in the Vorbis stream varies.

numpy and soundfile are imported lazily, like the model stack: the web process imports
the generator to list its parameters and never encodes audio.
"""

from __future__ import annotations

import io
import struct
from typing import Any

#: Output formats: soundfile's format and subtype, and the media type stored on the asset.
FORMATS: dict[str, tuple[str, str, str]] = {
    "wav": ("WAV", "PCM_16", "audio/wav"),
    "mp3": ("MP3", "MPEG_LAYER_III", "audio/mpeg"),
    "ogg": ("OGG", "VORBIS", "audio/ogg"),
}
#: The Ogg stream serial every output gets ("ASSY"): any fixed value makes bytes stable.
OGG_SERIAL = 0x41535359
_OGG_CAPTURE = b"OggS"
_OGG_HEADER = 27  # bytes before a page's segment table


def media_type(fmt: str) -> str:
    """The media type of an output format (``wav``, ``mp3`` or ``ogg``)."""
    return FORMATS[fmt][2]


def encode(samples: Any, sample_rate: int, fmt: str) -> bytes:
    """Encode mono float samples in [-1, 1] as ``fmt``; values outside are clipped."""
    import numpy as np
    import soundfile

    container, subtype, _ = FORMATS[fmt]
    audio = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, sample_rate, format=container, subtype=subtype)
    data = buffer.getvalue()
    return _pin_ogg_serial(data, OGG_SERIAL) if fmt == "ogg" else data


def _crc_table() -> list[int]:
    """Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0."""
    table = []
    for byte in range(256):
        value = byte << 24
        for _ in range(8):
            value = ((value << 1) ^ 0x04C11DB7) if value & 0x80000000 else value << 1
        table.append(value & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(page: bytes) -> int:
    """The checksum of one Ogg page whose checksum field is zeroed."""
    crc = 0
    for byte in page:
        crc = ((crc << 8) ^ _CRC[((crc >> 24) ^ byte) & 0xFF]) & 0xFFFFFFFF
    return crc


def _pin_ogg_serial(data: bytes, serial: int) -> bytes:
    """Give every page of a single-stream Ogg file the stream serial ``serial``.

    Each page starts with ``OggS``; the serial sits at bytes 14-17 and the checksum at
    22-25 (computed with the checksum field zeroed). A page that does not check out is
    a bug in this parser, not something to paper over, so it raises.
    """
    out = bytearray(data)
    pos = 0
    while pos < len(out):
        if out[pos:pos + 4] != _OGG_CAPTURE:
            raise ValueError(f"not an Ogg page at byte {pos}")
        segments = out[pos + 26]
        size = _OGG_HEADER + segments + sum(out[pos + _OGG_HEADER:pos + _OGG_HEADER + segments])
        page = out[pos:pos + size]
        (stored,) = struct.unpack_from("<I", page, 22)
        page[22:26] = b"\0\0\0\0"
        if ogg_crc(bytes(page)) != stored:
            raise ValueError(f"Ogg page at byte {pos} fails its checksum")
        struct.pack_into("<I", page, 14, serial)
        struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
        out[pos:pos + size] = page
        pos += size
    return bytes(out)
