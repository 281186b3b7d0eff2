"""Media on S3 (ASSAY_MEDIA_STORAGE=s3): generate, approve, sign, download, revise.

Run against moto's standalone S3 server (``moto.server.ThreadedMotoServer`` on a free
loopback port, tests/fixtures/s3.py): the only S3 endpoint reachable here. It speaks the
real protocol, so django-storages and boto3 run as they would against AWS, MinIO or Ceph.
Every object is listed and read back with boto3 directly, so "it is in the bucket" means
the bucket, not Django's view of it; and nothing may land under MEDIA_ROOT.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from unittest import mock

import moto.settings
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.test import APIClient

from assay.generation.models import GenerationJob
from assay.generation.runtime import _request, run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from governance.provenance.credentials import ROOT_CERT
from governance.provenance.models import SignedAsset
from governance.provenance.services import sign_asset
from governance.provenance.tasks import sign_asset_task
from governance.provenance.verify import verify_bytes
from governance.review import workflow
from governance.review.checks import run_checks
from governance.review.models import Review
from tests.fixtures import s3 as s3_fixtures
from tests.fixtures.s3 import LOCATION, S3Media, s3_env, use_s3
from tests.provenance.conftest import approve, image_bytes, make_image_asset, make_image_job

pytestmark = pytest.mark.django_db
moto_s3, s3_media = s3_fixtures.moto_s3, s3_fixtures.s3_media  # this module's fixtures


def anchors() -> str:
    return (Path(settings.ASSAY_SIGNING_DIR) / ROOT_CERT).read_text()


def generate_file(user, project, capture, **params) -> GenerationJob:
    """A dummy job whose output is a file (``as_file``), run by the real runtime."""
    with capture(execute=False):
        job = submit_generation(user, project=project, template="blurb",
                                variables={"product": "Kite"},
                                parameters={"as_file": True, **params})
    with capture(execute=False):
        run_job(str(job.pk), worker="w")
    job.refresh_from_db()
    return job


def download(user, url: str) -> tuple[bytes, dict[str, str]]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url)
    assert response.status_code == 200, response
    return b"".join(response.streaming_content), response


def local_media() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_a_generated_file_is_signed_and_downloaded_from_the_bucket(
        s3_media: S3Media, users, project, template, django_capture_on_commit_callbacks):
    before_local = local_media()
    job = generate_file(users["creator"], project, django_capture_on_commit_callbacks)
    assert job.status == "succeeded", job.error
    asset = Asset.objects.get(job=job)
    assert asset.file and not asset.text
    # The output is an object in the bucket, under the location prefix, with its bytes.
    assert s3_media.keys() == {s3_media.key(asset.file.name)}
    stored = s3_media.get(asset.file.name)
    assert hashlib.sha256(stored).hexdigest() == asset.sha256 and asset.read_bytes() == stored
    # Private: no public grant, and a URL (which Assay never hands out) is presigned.
    grants = s3_media.client.get_object_acl(Bucket=s3_media.bucket,
                                            Key=s3_media.key(asset.file.name))["Grants"]
    assert not [g for g in grants if "AllUsers" in str(g.get("Grantee", {}).get("URI"))]
    assert "X-Amz-Signature=" in default_storage.url(asset.file.name)

    run_checks(str(asset.pk))  # reads the file back from the bucket
    review = Review.objects.get(asset=asset)
    with mock.patch("assay.celery.app.send_task") as send, \
            django_capture_on_commit_callbacks(execute=True):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=asset.sha256)
    [call] = send.call_args_list
    signed = SignedAsset.objects.get(pk=sign_asset_task(*call.kwargs["args"]))
    assert not signed.embedded and signed.sidecar
    assert s3_media.keys() == {s3_media.key(name) for name in
                               (asset.file.name, signed.file.name, signed.sidecar.name)}
    assert all(key.startswith(f"{LOCATION}/") for key in s3_media.keys())

    # The REST download hands out exactly the signed object, and its sidecar; they verify.
    data, response = download(users["creator"], f"/api/v1/assets/{asset.pk}/content/")
    assert data == s3_media.get(signed.file.name)
    assert response["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    sidecar, _ = download(users["creator"], f"/api/v1/assets/{asset.pk}/sidecar/")
    assert sidecar == s3_media.get(signed.sidecar.name)
    report = verify_bytes(data, sidecar=sidecar, anchors=anchors())
    assert report.state == "trusted", report.failures
    assert local_media() == before_local  # nothing went to MEDIA_ROOT


def test_an_image_revision_reads_its_parent_from_the_bucket(
        s3_media: S3Media, users, project, template, django_capture_on_commit_callbacks):
    creator, reviewer = users["creator"], users["reviewer"]
    parent = make_image_asset(project, creator, make_image_job(project, creator, template),
                              image_bytes(color=(1, 2, 3)))
    parent_review, _ = approve(parent, creator, reviewer, django_capture_on_commit_callbacks)
    parent_signed = sign_asset(parent, parent_review)
    assert {s3_media.key(parent.file.name), s3_media.key(parent_signed.file.name)} <= (
        s3_media.keys())

    # Image-to-image: the runtime hands the generator its init image from the bucket.
    child_job = make_image_job(project, creator, template, parent_asset=parent)
    assert _request(child_job).inputs["init_image"] == s3_media.get(parent.file.name)

    # Signing the child reads the parent's signed object as its ingredient.
    child = make_image_asset(project, creator, child_job, image_bytes(color=(9, 9, 9)),
                             parent=parent)
    child_review, _ = approve(child, creator, reviewer, django_capture_on_commit_callbacks)
    child_signed = sign_asset(child, child_review)
    data, _ = download(creator, f"/api/v1/assets/{child.pk}/content/")
    assert data == s3_media.get(child_signed.file.name)
    report = verify_bytes(data, anchors=anchors())
    assert report.state == "trusted", report.failures
    [ingredient] = report.summary["ingredients"]
    assert ingredient["relationship"] == "parentOf"
    assert ingredient["manifest"] == parent_signed.manifest_label


def test_a_storage_that_refuses_the_credentials_fails_the_job_in_words(
        s3_media: S3Media, users, project, template, django_capture_on_commit_callbacks,
        monkeypatch):
    # moto checks signatures only when told to; this key is unknown to it, as to AWS.
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    job = generate_file(users["creator"], project, django_capture_on_commit_callbacks)
    assert job.status == "failed"
    assert job.error == "Could not store the output: the media storage refused it (Forbidden)."
    assert s3_media.bucket not in job.error and s3_media.endpoint not in job.error
    assert not Asset.objects.filter(job=job).exists()


def test_an_unreachable_storage_fails_the_job_in_words_without_hanging(
        s3_media: S3Media, users, project, template, django_capture_on_commit_callbacks,
        settings, monkeypatch):
    closed = closed_endpoint()
    use_s3(settings, monkeypatch, s3_env(closed, s3_media.bucket))
    job = generate_file(users["creator"], project, django_capture_on_commit_callbacks)
    assert job.status == "failed"
    assert job.error == "Could not store the output: the media storage could not be reached."
    assert closed not in job.error
    assert not Asset.objects.filter(job=job).exists() and not s3_media.keys()


def closed_endpoint() -> str:
    """A loopback URL nothing listens on (the port is closed again at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_download_from_a_storage_that_is_away_is_a_503_in_words(
        s3_media: S3Media, users, project, template, django_capture_on_commit_callbacks,
        settings, monkeypatch):
    job = generate_file(users["creator"], project, django_capture_on_commit_callbacks)
    asset = Asset.objects.get(job=job)
    client = APIClient()
    client.force_authenticate(users["creator"])
    url = f"/api/v1/assets/{asset.pk}/content/"
    assert client.get(url).status_code == 200

    s3_media.client.delete_object(Bucket=s3_media.bucket, Key=s3_media.key(asset.file.name))
    missing = client.get(url)
    assert missing.status_code == 503 and missing.json()["code"] == "media_unavailable"

    endpoint = closed_endpoint()
    use_s3(settings, monkeypatch, s3_env(endpoint, s3_media.bucket))
    away = client.get(url)
    assert away.status_code == 503
    assert "cannot be read from the media storage" in away.json()["detail"]
    assert endpoint not in away.content.decode()


def test_a_portal_download_from_a_storage_that_is_away_is_a_page_in_words(
        s3_media: S3Media, users, project, template, django_capture_on_commit_callbacks,
        client):
    job = generate_file(users["creator"], project, django_capture_on_commit_callbacks)
    asset = Asset.objects.get(job=job)
    client.force_login(users["creator"])
    for name in ("portal:asset_download", "portal:asset_content"):
        assert client.get(reverse(name, args=[asset.pk])).status_code == 200
    s3_media.client.delete_object(Bucket=s3_media.bucket, Key=s3_media.key(asset.file.name))
    for name in ("portal:asset_download", "portal:asset_content"):
        page = client.get(reverse(name, args=[asset.pk]))
        assert page.status_code == 503
        text = page.content.decode()
        assert "Not available just now" in text and "media storage" in text
        assert s3_media.bucket not in text
