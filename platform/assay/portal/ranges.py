"""Byte ranges (RFC 9110 §14) for the portal's media views, so players can seek.

Browsers seek audio and video by asking for ``Range: bytes=a-b``; Django's FileResponse
always sends the whole file, and Chromium then refuses to seek a clip at all. ``ranged``
takes the response a download already built (its headers: hash, CSP, credentials) and
answers one satisfiable range with 206, an unsatisfiable one with 416, and anything else
(no header, several ranges, a malformed one) with the full 200, as the RFC allows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import IO, Any

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")
#: Bytes read from storage per chunk of a 206 body.
CHUNK = 64 * 1024
#: Headers of the original response that describe the whole file, not the part.
_WHOLE_ONLY = {"content-length", "content-range", "content-disposition"}


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """The inclusive (first, last) byte of one range; None to send it all; False if none
    of the file can be sent (416).
    """
    match = _RANGE.match(header or "")
    if match is None:
        return None  # absent, several ranges, or not bytes: the whole file is fine
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        count = int(last)
        if count == 0:
            return False
        return max(0, size - count), size - 1
    start = int(first)
    if start >= size:
        return False
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None  # malformed: ignore the header
    return start, end


def _body(response: HttpResponse) -> IO[bytes]:
    """A seekable handle on the response's bytes."""
    if isinstance(response, FileResponse):
        return response.file_to_stream
    return io.BytesIO(response.content)


def _size(handle: IO[bytes]) -> int:
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    return size


def _chunks(handle: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(start)
        left = length
        while left > 0:
            block = handle.read(min(CHUNK, left))
            if not block:
                break
            left -= len(block)
            yield block
    finally:
        handle.close()


def _copy_headers(source: HttpResponse, target: HttpResponse) -> None:
    for name, value in source.items():
        if name.lower() not in _WHOLE_ONLY:
            target[name] = value


def ranged(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """``response`` (a full 200 of a stored file) answered as the request's Range asks."""
    if response.status_code != 200 or response.streaming and not isinstance(
            response, FileResponse):
        return response
    response["Accept-Ranges"] = "bytes"
    header = request.headers.get("Range", "")
    if not header or request.method != "GET":
        return response
    if_range = request.headers.get("If-Range")
    if if_range and if_range.strip('"') != str(response.get("X-Content-SHA256", "")):
        return response  # the client's copy is of other bytes: send them all
    handle = _body(response)
    size = _size(handle)
    wanted = parse_range(header, size)
    if wanted is None:
        return response
    part: Any
    if wanted is False:
        handle.close()
        part = HttpResponse(status=416)
        _copy_headers(response, part)
        part["Content-Range"] = f"bytes */{size}"
        return part
    start, end = wanted
    part = StreamingHttpResponse(_chunks(handle, start, end - start + 1), status=206,
                                 content_type=response.get("Content-Type"))
    _copy_headers(response, part)
    part["Content-Range"] = f"bytes {start}-{end}/{size}"
    part["Content-Length"] = str(end - start + 1)
    return part
