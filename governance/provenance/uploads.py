"""Cheap structural limits on a file before the C2PA reader parses it.

The reader's work grows with the number of parts in a file, not with its size: a 25 MB PNG
made of 1.7 M empty chunks held a request for 46 s, a TIFF of 30 full IFDs for 17 s, and
ISO BMFF (MP4, AVIF) boxes cost quadratic time (20,000 boxes ≈ 1 s, 100,000 ≈ 27 s). So
each container's part list is walked here first with a bounded parser (a few operations
per part, stopping at the limit) and a file with more than ASSAY_VERIFY_MAX_PARTS parts is
refused at once. Formats not listed cost the reader little per part and are left to it.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from assay.core.exceptions import InvalidInput
from governance.provenance.errors import UnreadableFile

#: Everything a PNG holds after its 8-byte signature is chunks of length + type + data + CRC.
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MAX_CHUNK = 2**31 - 1
#: In JPEG entropy-coded data, the next marker that is not stuffing (FF00), a restart
#: marker (FFD0–FFD7) or fill (FFFF).
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_FILL = re.compile(rb"\xff+")
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
#: ISO BMFF boxes the C2PA reader descends into (measured: the others it skips whole).
_BMFF_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"meta",
                              b"schi", b"sinf", b"tref", b"dinf", b"edts", b"mvex", b"moof",
                              b"traf", b"mfra"})
#: GIF image data comes in sub-blocks of up to 255 bytes: a 25 MB GIF has ~100,000.
_GIF_SUBBLOCKS_PER_PART = 100


class TooComplex(InvalidInput):
    """A file with more parts than the reader is allowed to walk (a cheap 400, not minutes
    of a worker)."""

    code = "too_complex"


def _refuse(kind: str, unit: str, limit: int) -> TooComplex:
    return TooComplex(
        f"The {kind} has more than {limit:,} {unit}; this server verifies files of at most "
        f"{limit:,} (ASSAY_VERIFY_MAX_PARTS). Re-save it with a standard encoder and upload "
        "it again.", errors={"file": [f"more than {limit:,} {unit}"]})


def _damaged(media_type: str, why: str) -> UnreadableFile:
    return UnreadableFile(f"The file could not be read as {media_type}; it may be truncated "
                          f"or damaged ({why}).", errors={"file": ["unreadable"]})


def _png(data: bytes, limit: int) -> None:
    """Walk the chunk list: IHDR first, every chunk inside the file, IEND last."""
    pos, count, size = len(_PNG_SIGNATURE), 0, len(data)
    while True:
        if pos + 12 > size:
            raise _damaged("image/png", f"it ends inside chunk {count + 1}, before IEND")
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if length > _PNG_MAX_CHUNK or end > size:
            raise _damaged("image/png", f"chunk {count + 1} runs past the end of the file")
        if count == 0 and kind != b"IHDR":
            raise _damaged("image/png", "the first chunk is not IHDR")
        count += 1
        if count > limit:
            raise _refuse("PNG", "chunks", limit)
        if kind == b"IEND":
            return
        pos = end


def _jpeg(data: bytes, limit: int) -> None:
    """Count marker segments (restart markers inside scans are free to the reader)."""
    pos, count, size = 2, 0, len(data)
    while pos < size:
        fill = _JPEG_FILL.match(data, pos)
        if fill is None:
            return  # not a marker: damaged; the reader says so
        pos = fill.end()
        if pos >= size:
            return
        marker = data[pos]
        pos += 1
        count += 1
        if count > limit:
            raise _refuse("JPEG", "segments", limit)
        if marker == 0xD9:  # end of image
            return
        if marker in _JPEG_STANDALONE:
            continue
        if pos + 2 > size:
            return
        pos += int.from_bytes(data[pos:pos + 2], "big")
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next marker
            following = _JPEG_NEXT_MARKER.search(data, pos)
            if following is None:
                return
            pos = following.start()


def _riff(kind: str) -> Callable[[bytes, int], None]:
    def walk(data: bytes, limit: int) -> None:
        """Count the RIFF chunks (id + little-endian size + data, padded to even)."""
        pos, count, size = 12, 0, len(data)
        while pos + 8 <= size:
            count += 1
            if count > limit:
                raise _refuse(kind, "chunks", limit)
            length = int.from_bytes(data[pos + 4:pos + 8], "little")
            pos += 8 + length + (length & 1)
    return walk


def _gif(data: bytes, limit: int) -> None:
    """Count extension and image blocks, and bound the sub-blocks walked in all."""
    size = len(data)
    if size < 13:
        return
    pos = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    blocks = steps = 0
    while pos < size:
        introducer = data[pos]
        if introducer == 0x3B:  # trailer
            return
        if introducer == 0x21:
            pos += 2
        elif introducer == 0x2C:
            if pos + 10 > size:
                return
            packed = data[pos + 9]
            pos += 10 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0) + 1
        else:
            return  # damaged: the reader says so
        blocks += 1
        if blocks > limit:
            raise _refuse("GIF", "blocks", limit)
        while pos < size:
            length = data[pos]
            pos += 1 + length
            steps += 1
            if steps > limit * _GIF_SUBBLOCKS_PER_PART:
                raise _refuse("GIF", "data sub-blocks", limit * _GIF_SUBBLOCKS_PER_PART)
            if length == 0:
                break


def _bmff(kind: str) -> Callable[[bytes, int], None]:
    def walk(data: bytes, limit: int) -> None:
        """Count boxes, descending into the containers the reader descends into."""
        count, ranges = 0, [(0, len(data))]
        while ranges:
            pos, end = ranges.pop()
            while pos + 8 <= end:
                length = int.from_bytes(data[pos:pos + 4], "big")
                box = data[pos + 4:pos + 8]
                header = 8
                if length == 1:
                    if pos + 16 > end:
                        break
                    length, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
                elif length == 0:
                    length = end - pos
                if length < header or pos + length > end:
                    break  # damaged: the reader says so
                count += 1
                if count > limit:
                    raise _refuse(kind, "boxes", limit)
                if box in _BMFF_CONTAINERS:
                    start = pos + header
                    if box == b"meta" and data[start:start + 4] == b"\x00\x00\x00\x00":
                        start += 4  # a full box: version and flags before its children
                    ranges.append((start, pos + length))
                pos += length
    return walk


def _tiff(data: bytes, limit: int) -> None:
    """Count the entries of every IFD in the chain (each IFD may hold 65,535)."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8 or struct.unpack(f"{order}H", data[2:4])[0] != 42:
        return  # BigTIFF or damaged: the reader decides
    offset, entries, seen = struct.unpack(f"{order}I", data[4:8])[0], 0, set()
    while offset and offset not in seen and offset + 2 <= len(data):
        seen.add(offset)
        count = struct.unpack(f"{order}H", data[offset:offset + 2])[0]
        entries += count + 1
        if entries > limit:
            raise _refuse("TIFF", "directory entries", limit)
        following = offset + 2 + 12 * count
        if following + 4 > len(data):
            return
        offset = struct.unpack(f"{order}I", data[following:following + 4])[0]


_WALKERS: dict[str, Callable[[bytes, int], None]] = {
    "image/png": _png, "image/jpeg": _jpeg, "image/gif": _gif, "image/tiff": _tiff,
    "image/webp": _riff("WebP"), "audio/wav": _riff("WAV"),
    "video/mp4": _bmff("MP4"), "audio/mp4": _bmff("M4A"), "image/avif": _bmff("AVIF"),
}


def check_parts(data: bytes, media_type: str | None, limit: int) -> None:
    """Refuse, before any C2PA parsing, a file with more than ``limit`` parts.

    Raises:
        TooComplex: too many chunks, segments, blocks, boxes or directory entries.
        UnreadableFile: a PNG whose chunk list is broken (truncated, or not a PNG).
    """
    walker = _WALKERS.get(media_type or "")
    if walker is not None:
        walker(data, limit)
