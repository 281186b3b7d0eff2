"""Verifying any file: REST and the command answer clearly, never with a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from governance.provenance.services import sign_asset
from tests.provenance.conftest import approve, image_bytes, make_image_asset, make_image_job

pytestmark = pytest.mark.django_db
URL = "/api/v1/provenance/verify/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(data: bytes, name: str = "file.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def signed_png(users, project, template, django_capture_on_commit_callbacks) -> bytes:
    job = make_image_job(project, users["creator"], template)
    asset = make_image_asset(project, users["creator"], job, image_bytes())
    review, _ = approve(asset, users["creator"], users["reviewer"],
                        django_capture_on_commit_callbacks)
    with sign_asset(asset, review).file.open("rb") as handle:
        return handle.read()


def test_a_signed_file_reads_trusted_for_any_signed_in_user(signed_png, users):
    response = client_for(users["outsider"]).post(URL, {"file": upload(signed_png)},
                                                  format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "trusted" and body["format"] == "image/png" and body["embedded"]
    assert body["summary"]["ai_generated"] is True
    assert body["summary"]["model"]["id"] == "sd-turbo"
    assert body["summary"]["approvals"][0]["stage"] == "review"
    assert body["failures"] == [] and body["lines"]
    event = AuditEvent.objects.filter(action="provenance.file.verified").latest("id")
    assert event.data["outcome"] == "trusted" and event.actor_display == "otto"


def test_a_file_without_credentials_gets_a_clear_none(users):
    response = client_for(users["creator"]).post(URL, {"file": upload(image_bytes())},
                                                 format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "none" and body["headline"].startswith("No Content Credentials")
    assert body["summary"] == {} and body["failures"] == []


def test_text_without_its_sidecar_is_told_to_send_it(users):
    response = client_for(users["creator"]).post(
        URL, {"file": upload(b"Hello, Kite.", "copy.txt", "text/plain")}, format="multipart")
    assert response.status_code == 400  # issue 9: a 400 that says what is missing
    assert "sidecar" in response.json()["detail"] and "sidecar" in response.json()["errors"]
    bad = client_for(users["creator"]).post(URL, {
        "file": upload(b"Hello, Kite.", "copy.txt", "text/plain"),
        "sidecar": upload(b"not a manifest", "copy.c2pa", "application/c2pa")},
        format="multipart")
    assert bad.status_code == 400 and "sidecar" in bad.json()["detail"]


def test_a_truncated_file_is_a_clear_400(signed_png, users):
    response = client_for(users["creator"]).post(
        URL, {"file": upload(signed_png[: len(signed_png) // 2])}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unreadable" and "truncated or damaged" in body["detail"]
    event = AuditEvent.objects.filter(action="provenance.file.verified").latest("id")
    assert event.data["outcome"] == "unreadable"


def test_a_file_over_the_limit_is_refused_with_413(users, settings):
    settings.ASSAY_VERIFY_MAX_BYTES = 1000
    response = client_for(users["creator"]).post(URL, {"file": upload(b"\x89PNG" + b"0" * 2000)},
                                                 format="multipart")
    assert response.status_code == 413
    assert "ASSAY_VERIFY_MAX_BYTES" in response.json()["detail"]
    huge = client_for(users["creator"]).post(URL, {"file": upload(b"x" * 5000)},
                                             format="multipart")
    assert huge.status_code == 413  # refused from Content-Length, before parsing
    outcomes = [e.data["outcome"] for e in
                AuditEvent.objects.filter(action="provenance.file.verified")]
    assert outcomes == ["too_large", "too_large"]


def test_wrong_content_types_get_clear_answers(users, signed_png):
    client = client_for(users["creator"])
    for junk in (bytes(range(256)) * 4, b"\x00\x01garbage\xff" * 50):
        response = client.post(URL, {"file": upload(junk, "junk.bin", "image/png")},
                               format="multipart")
        assert response.status_code == 415, response.content
        assert response.json()["code"] == "unsupported_type"
        assert "Supported:" in response.json()["detail"]
    as_json = client.post(URL, {"file": "x"}, format="json")
    assert as_json.status_code == 415 and "Unsupported media type" in as_json.json()["detail"]
    missing = client.post(URL, {"other": upload(signed_png)}, format="multipart")
    assert missing.status_code == 400 and "`file`" in missing.json()["detail"]
    mislabelled = client.post(URL, {"file": upload(signed_png, "photo.txt", "text/plain")},
                              format="multipart")
    assert mislabelled.status_code == 200 and mislabelled.json()["state"] == "trusted"


def test_unauthenticated_requests_get_401(signed_png):
    response = APIClient().post(URL, {"file": upload(signed_png)}, format="multipart")
    assert response.status_code == 401


def test_the_command_reports_in_plain_words(signed_png, tmp_path, capsys):
    good = tmp_path / "good.png"
    good.write_bytes(signed_png)
    call_command("verify_provenance", str(good))
    out = capsys.readouterr().out
    assert "good.png: TRUSTED" in out and "AI-generated by image-diffusers" in out
    bad = tmp_path / "bad.png"
    data = bytearray(signed_png)
    data[data.index(b"IDAT") + 12] ^= 1
    bad.write_bytes(bytes(data))
    with pytest.raises(SystemExit) as exited:
        call_command("verify_provenance", str(bad))
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "assertion.dataHash.mismatch" in out
    plain = tmp_path / "plain.png"
    plain.write_bytes(image_bytes())
    call_command("verify_provenance", str(plain))
    assert "No Content Credentials" in capsys.readouterr().out
