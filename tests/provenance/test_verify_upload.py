"""The verify upload is bounded in work: a file of very many tiny parts gets a fast 400
before the C2PA reader walks it, and an empty file or a text without its sidecar gets a
400 that says what is missing."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from governance.provenance import uploads
from governance.provenance.formats import sniff
from governance.provenance.services import sign_asset
from tests.provenance.conftest import approve, image_bytes, make_image_asset, make_image_job

pytestmark = pytest.mark.django_db
URL = "/api/v1/provenance/verify/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(user, data: bytes, name: str = "file.png", content_type: str = "image/png",
         **extra: bytes):
    files = {"file": SimpleUploadedFile(name, data, content_type=content_type)}
    files.update({key: SimpleUploadedFile(f"{key}.c2pa", value, content_type="application/c2pa")
                  for key, value in extra.items()})
    return client_for(user).post(URL, files, format="multipart")


def chunk(kind: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def many_chunk_png(n: int) -> bytes:
    """A valid signature and IHDR, ``n`` tiny tEXt chunks (15 bytes each), IDAT, IEND."""
    png = image_bytes((8, 8))
    ihdr_end = 8 + 25  # signature + IHDR (length, type, 13 bytes, CRC)
    return png[:ihdr_end] + chunk(b"tEXt", b"a\x00b") * n + png[ihdr_end:]


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def outcome() -> str:
    return AuditEvent.objects.filter(action="provenance.file.verified").latest("id").data[
        "outcome"]


def test_a_25_mb_png_of_1_7_million_chunks_is_refused_fast(users):
    """It held the request for 46 s; now a 400 in well under a second of work."""
    data = many_chunk_png(1_700_000)
    assert 24_000_000 < len(data) < 25 * 1024 * 1024  # under ASSAY_VERIFY_MAX_BYTES
    started = time.monotonic()
    response = post(users["creator"], data)
    elapsed = time.monotonic() - started
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "too_complex" and "ASSAY_VERIFY_MAX_PARTS" in body["detail"]
    assert "more than 10,000 chunks" in body["detail"] and "file" in body["errors"]
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert outcome() == "too_complex"


def test_a_png_under_the_limit_is_still_read(users, settings):
    settings.ASSAY_VERIFY_MAX_PARTS = 50
    response = post(users["creator"], many_chunk_png(40))
    assert response.status_code == 200, response.content[:300]
    assert response.json()["state"] == "none"
    assert post(users["creator"], many_chunk_png(60)).status_code == 400


def test_a_signed_png_passes_the_walk_and_reads_trusted(users, project, template,
                                                        django_capture_on_commit_callbacks):
    job = make_image_job(project, users["creator"], template)
    asset = make_image_asset(project, users["creator"], job, image_bytes())
    review, _ = approve(asset, users["creator"], users["reviewer"],
                        django_capture_on_commit_callbacks)
    with sign_asset(asset, review).file.open("rb") as handle:
        signed = handle.read()
    uploads.check_parts(signed, "image/png", 10)  # a signed PNG has a handful of chunks
    response = post(users["creator"], signed)
    assert response.status_code == 200 and response.json()["state"] == "trusted"


def test_a_png_whose_chunk_list_is_broken_is_a_clear_400(users):
    png = image_bytes((8, 8))
    broken = png[:8] + struct.pack(">I", 2**31 + 5) + png[12:]  # IHDR claims 2 GB
    response = post(users["creator"], broken)
    assert response.status_code == 400
    assert response.json()["code"] == "unreadable"
    assert "truncated or damaged" in response.json()["detail"]
    no_ihdr = png[:8] + chunk(b"tEXt") + png[8:]
    assert "not IHDR" in post(users["creator"], no_ihdr).json()["detail"]


@pytest.mark.parametrize("kind", ["jpeg", "gif", "webp", "mp4", "mp4-nested", "tiff"])
def test_other_containers_of_very_many_parts_are_refused_fast(users, settings, kind):
    """Each costs the reader per part (BMFF boxes quadratically): bounded the same way."""
    settings.ASSAY_VERIFY_MAX_PARTS = 1000
    n = 1500
    if kind == "jpeg":
        jpg = image_bytes((8, 8), fmt="JPEG")
        data, name = jpg[:2] + b"\xff\xe2\x00\x02" * n + jpg[2:], "a.jpg"
    elif kind == "gif":
        gif = image_bytes((8, 8), fmt="GIF")
        data, name = gif[:-1] + b"\x21\xfe\x01a\x00" * n + gif[-1:], "a.gif"
    elif kind == "webp":
        webp = image_bytes((8, 8), fmt="WEBP")
        body = webp[12:] + b"abcd\x00\x00\x00\x00" * n
        data, name = b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body, "a.webp"
    elif kind == "mp4":
        data, name = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2") + box(b"free") * n, "a.mp4"
    elif kind == "mp4-nested":
        data = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2") + box(
            b"moov", box(b"trak", box(b"free") * n))
        name = "a.mp4"
    else:
        entries = b"".join(struct.pack("<HHII", 256, 3, 1, 8) for _ in range(n))
        data = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", n) + entries + bytes(4)
        name = "a.tif"
    started = time.monotonic()
    response = post(users["creator"], data, name, "application/octet-stream")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "too_complex"
    assert "more than 1,000" in response.json()["detail"]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "TIFF"])
def test_ordinary_files_pass_the_walk(fmt):
    image = Image.new("RGB", (300, 200), (10, 120, 200))
    buf = io.BytesIO()
    image.save(buf, fmt, **({"progressive": True} if fmt == "JPEG" else {}))
    data = buf.getvalue()
    uploads.check_parts(data, sniff(data), 50)


def test_an_empty_file_is_a_400_that_says_so(users):
    response = post(users["creator"], b"")
    assert response.status_code == 400, response.content
    body = response.json()
    assert "empty" in body["detail"] and "file" in body["errors"]
    assert outcome() == "invalid"
    sidecar = post(users["creator"], b"Hello, Kite.", "copy.txt", "text/plain", sidecar=b"")
    assert sidecar.status_code == 400 and "sidecar" in sidecar.json()["errors"]


def test_text_without_its_sidecar_is_a_400_that_names_it(users):
    for name in ("copy.txt", "copy.md"):
        response = post(users["creator"], b"Hello, Kite.", name, "text/plain")
        assert response.status_code == 400
        body = response.json()
        assert "`sidecar`" in body["detail"] and "sidecar" in body["errors"]
    assert outcome() == "invalid"


def test_a_nul_in_the_file_name_is_not_a_500(users):
    response = post(users["creator"], image_bytes(), "a\x00b.png")
    assert response.status_code in (200, 400)
