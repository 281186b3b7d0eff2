"""Signing approved assets: the manifest's content, tamper evidence, refusals, history."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import stat
from pathlib import Path
from unittest import mock

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from assay.studio.models import Asset
from governance.provenance import credentials, manifest
from governance.provenance.credentials import ROOT_CERT, ROOT_KEY, make_root, write_signer
from governance.provenance.errors import SigningUnavailable
from governance.provenance.models import SignedAsset, signed_folder, signed_upload_to
from governance.provenance.services import (
    resize_signed,
    sign_approved,
    sign_asset,
    sweep_unsigned,
)
from governance.provenance.tasks import sign_asset_task
from governance.provenance.verify import verify_bytes
from tests.provenance.conftest import (
    MODEL_REF,
    approve,
    generate_text,
    image_bytes,
    make_image_asset,
    make_image_job,
)

pytestmark = pytest.mark.django_db


def read(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def anchors() -> str:
    return (Path(settings.ASSAY_SIGNING_DIR) / ROOT_CERT).read_text()


def assertion(report_store: dict, label: str) -> dict:
    return next(a["data"] for a in report_store["assertions"] if a["label"] == label)


def active_manifest(data: bytes, sidecar: bytes | None = None) -> dict:
    import io
    import json

    import c2pa

    with c2pa.Reader(None, io.BytesIO(data), sidecar) as reader:
        store = json.loads(reader.json())
    return store["manifests"][store["active_manifest"]]


@pytest.fixture
def approved_image(users, project, template, django_capture_on_commit_callbacks):
    job = make_image_job(project, users["creator"], template)
    asset = make_image_asset(project, users["creator"], job, image_bytes())
    review, send = approve(asset, users["creator"], users["reviewer"],
                           django_capture_on_commit_callbacks)
    return asset, review, send


def test_signed_image_is_trusted_and_says_how_it_was_made(approved_image, users, template):
    asset, review, send = approved_image
    approved = AuditEvent.objects.get(action="review.asset.approved")
    send.assert_called_once_with("provenance.sign_asset", args=[
        str(asset.pk), review.pk, approved.correlation_id], queue="cpu", retry=False)
    original = asset.read_bytes()
    signed = sign_asset(asset, review)

    data = read(signed.file)
    assert hashlib.sha256(data).hexdigest() == signed.signed_sha256 != asset.sha256
    assert signed.file.name != asset.file.name and asset.read_bytes() == original
    assert signed.embedded and signed.format == "image/png" and not signed.sidecar
    report = verify_bytes(data, anchors=anchors())
    assert report.state == "trusted", report.failures
    assert report.manifest_label == signed.manifest_label

    store = active_manifest(data)
    [created] = assertion(store, "c2pa.actions.v2")["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia")
    agent = created["softwareAgent"]
    assert agent["name"] == "image-diffusers" and agent["version"] == "1.2"
    assert agent["org.assay.plugin"] == "image_diffusers"
    assert agent["org.assay.model"]["id"] == "sd-turbo"
    assert agent["org.assay.model"]["revision"] == MODEL_REF["revision"]

    gov = assertion(store, "org.assay.governance")
    version = template.latest_version()
    assert gov["project"]["slug"] == "launch"
    assert gov["asset"]["sha256"] == asset.sha256
    assert gov["generation"]["prompt"]["version_id"] == version.pk
    assert gov["generation"]["prompt"]["text_sha256"] == version.text_sha256
    assert gov["generation"]["parameters"]["steps"] == 4 and gov["generation"]["seed"] == 7
    assert gov["checks"] == [{"check_id": "image-size", "check_version": "1.0",
                              "status": "pass", "severity": "medium"}]
    [approval] = gov["approvals"]
    assert approval["stage"] == "review" and approval["reviewer_role"] == "reviewer"
    assert approval["decision"] == "approve" and approval["content_sha256"] == asset.sha256
    assert approval["reviewer"] == manifest.reviewer_identity(users["reviewer"])
    assert approval["reviewer"].startswith("reviewer-") and "rui" not in approval["reviewer"]
    assert approval["reviewer_identity"] == "pseudonym" and approval["decided_at"]

    summary = report.summary
    assert summary["ai_generated"] and summary["model"]["id"] == "sd-turbo"
    assert summary["signed_by"]["common_name"] == "Assay Content Signing"
    assert any("Approved at stage 'review'" in line for line in report.lines)

    assert sign_asset(asset, review).pk == signed.pk  # idempotent per (asset, hash)
    assert SignedAsset.objects.filter(asset=asset).count() == 1
    event = AuditEvent.objects.get(action="provenance.asset.signed")
    assert event.data["manifest"] == signed.manifest_label and event.project_id == asset.project_id


def test_reviewer_identity_is_a_stable_pseudonym_or_the_name(users, settings):
    first = manifest.reviewer_identity(users["reviewer"])
    assert first == manifest.reviewer_identity(users["reviewer"])
    assert first != manifest.reviewer_identity(users["owner"])
    settings.ASSAY_PROVENANCE_REVIEWER_IDENTITY = "name"
    assert manifest.reviewer_identity(users["reviewer"]) == "rui"


def test_one_changed_byte_makes_the_image_invalid(approved_image):
    asset, review, _ = approved_image
    data = bytearray(read(sign_asset(asset, review).file))
    at = data.index(b"IDAT") + 12
    data[at] ^= 0x01
    report = verify_bytes(bytes(data), anchors=anchors())
    assert report.state == "invalid"
    codes = {f["code"]: f["meaning"] for f in report.failures}
    assert "assertion.dataHash.mismatch" in codes
    assert "changed after it was signed" in codes["assertion.dataHash.mismatch"]


def test_another_root_reads_valid_but_untrusted(approved_image):
    asset, review, _ = approved_image
    data = read(sign_asset(asset, review).file)
    stranger, _key = make_root()
    report = verify_bytes(data, anchors=stranger.public_bytes(
        serialization.Encoding.PEM).decode())
    assert report.state == "valid"
    assert report.headline.startswith("Valid but untrusted")
    assert [f["code"] for f in report.failures] == ["signingCredential.untrusted"]
    assert "cannot be confirmed" in report.failures[0]["meaning"]
    assert verify_bytes(data).state == "valid"  # no anchors at all: the same, said plainly


@pytest.mark.parametrize("window", ["expired", "not_yet_valid"])
def test_a_certificate_out_of_its_validity_is_refused_before_signing(
        approved_image, tmp_path, settings, window):
    asset, review, _ = approved_image
    for name in (ROOT_CERT, ROOT_KEY):
        shutil.copy(Path(settings.ASSAY_SIGNING_DIR) / name, tmp_path / name)
    root = x509.load_pem_x509_certificate((tmp_path / ROOT_CERT).read_bytes())
    root_key = serialization.load_pem_private_key((tmp_path / ROOT_KEY).read_bytes(), None)
    now = dt.datetime.now(dt.UTC)
    span = ((now - dt.timedelta(days=30), now - dt.timedelta(days=1)) if window == "expired"
            else (now + dt.timedelta(days=1), now + dt.timedelta(days=30)))
    write_signer(tmp_path, root, root_key, not_before=span[0], not_after=span[1])
    settings.ASSAY_SIGNING_DIR = tmp_path
    media = Path(settings.MEDIA_ROOT) / "provenance"
    before = sorted(media.rglob("*")) if media.exists() else []

    with pytest.raises(SigningUnavailable, match="expired" if window == "expired"
                       else "not valid until"):
        sign_asset(asset, review)
    assert not SignedAsset.objects.exists()
    assert (sorted(media.rglob("*")) if media.exists() else []) == before
    assert sign_approved(str(asset.pk), review.pk) is None  # the task logs and gives up
    assert not AuditEvent.objects.filter(action="provenance.asset.signed").exists()


def test_img2img_output_carries_its_parent_and_a_resize_keeps_the_chain(
        users, project, template, django_capture_on_commit_callbacks):
    creator, reviewer = users["creator"], users["reviewer"]
    parent = make_image_asset(project, creator, make_image_job(project, creator, template),
                              image_bytes(color=(1, 2, 3)))
    parent_review, _ = approve(parent, creator, reviewer, django_capture_on_commit_callbacks)
    parent_signed = sign_asset(parent, parent_review)
    job = make_image_job(project, creator, template, parent_asset=parent)
    child = make_image_asset(project, creator, job, image_bytes(color=(9, 9, 9)),
                             parent=parent)
    child_review, _ = approve(child, creator, reviewer, django_capture_on_commit_callbacks)
    child_signed = sign_asset(child, child_review)

    data = read(child_signed.file)
    report = verify_bytes(data, anchors=anchors())
    assert report.state == "trusted", report.failures
    [ingredient] = report.summary["ingredients"]
    assert ingredient["relationship"] == "parentOf"
    assert ingredient["manifest"] == parent_signed.manifest_label
    assert report.summary["actions"] == ["c2pa.opened", "c2pa.edited"]
    edited = assertion(active_manifest(data), "c2pa.actions.v2")["actions"][1]
    assert edited["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert edited["softwareAgent"]["org.assay.model"]["id"] == "sd-turbo"

    small = resize_signed(child, 32, 24)
    assert small.parent_id == child_signed.pk and small.asset_id == child.pk
    assert small.transform == {"action": "c2pa.resized", "width": 32, "height": 24}
    assert resize_signed(child, 32, 24).pk == small.pk  # idempotent
    derived = verify_bytes(read(small.file), anchors=anchors())
    assert derived.state == "trusted", derived.failures
    history = [h["manifest"] for h in derived.summary["history"]]
    assert history == [small.manifest_label, child_signed.manifest_label,
                       parent_signed.manifest_label]
    assert derived.summary["actions"] == ["c2pa.opened", "c2pa.resized"]
    assert derived.summary["ai_generated"] and derived.summary["approvals"]
    assert signed_download(child) == read(child_signed.file)  # download: the approved one
    assert AuditEvent.objects.filter(action="provenance.asset.derived").count() == 1


def signed_download(asset: Asset) -> bytes:
    from governance.provenance.downloads import signed_response

    return b"".join(signed_response(asset).streaming_content)


def test_approval_to_signed_download_end_to_end(users, project, template,
                                               django_capture_on_commit_callbacks):
    asset = generate_text(users["creator"], project, django_capture_on_commit_callbacks)
    from governance.review import workflow
    from governance.review.models import Review

    review = Review.objects.get(asset=asset)
    with mock.patch("assay.celery.app.send_task") as send, \
            django_capture_on_commit_callbacks(execute=True):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=asset.sha256)
    [call] = send.call_args_list
    assert call.args == ("provenance.sign_asset",)
    signed_id = sign_asset_task(*call.kwargs["args"])  # what the worker runs
    signed = SignedAsset.objects.get(pk=signed_id)
    assert not signed.embedded and signed.format == "text/plain" and signed.sidecar

    client = APIClient()
    client.force_authenticate(users["creator"])
    body = client.get(f"/api/v1/assets/{asset.pk}/content/")
    assert body.status_code == 200
    text = b"".join(body.streaming_content)
    assert text == asset.text.encode() and body["X-Content-SHA256"] == asset.sha256
    assert body["X-Content-Credentials"] == f"sidecar; url=/api/v1/assets/{asset.pk}/sidecar/"
    side = client.get(f"/api/v1/assets/{asset.pk}/sidecar/")
    assert side.status_code == 200 and side["Content-Type"] == "application/c2pa"
    sidecar = b"".join(side.streaming_content)

    report = verify_bytes(text, sidecar=sidecar, anchors=anchors())
    assert report.state == "trusted", report.failures
    checks = {c["check_id"]: c["status"] for c in report.summary["checks"]}
    assert checks == {r.check_id: r.status for r in asset.check_results.all()}
    assert checks["dummy-words"] == "pass"
    assert report.summary["prompt"]["text_sha256"] == template.latest_version().text_sha256
    changed = text.replace(b"Kite", b"Kitf", 1)
    assert changed != text
    tampered = verify_bytes(changed, sidecar=sidecar, anchors=anchors())
    assert tampered.state == "invalid"
    assert "assertion.dataHash.mismatch" in [f["code"] for f in tampered.failures]

    outsider = APIClient()
    outsider.force_authenticate(users["outsider"])
    assert outsider.get(f"/api/v1/assets/{asset.pk}/sidecar/").status_code == 404


def test_the_rest_download_of_an_approved_image_is_the_signed_file(approved_image, users):
    asset, review, _ = approved_image
    client = APIClient()
    client.force_authenticate(users["creator"])
    before = b"".join(client.get(f"/api/v1/assets/{asset.pk}/content/").streaming_content)
    assert before == asset.read_bytes()  # not signed yet: the original
    signed = sign_asset(asset, review)
    response = client.get(f"/api/v1/assets/{asset.pk}/content/")
    assert b"".join(response.streaming_content) == read(signed.file)
    assert response["X-Content-Credentials"] == "embedded"
    assert response["X-Approved-SHA256"] == asset.sha256
    assert client.get(f"/api/v1/assets/{asset.pk}/sidecar/").status_code == 404
    from django.test import Client

    browser = Client()
    browser.force_login(users["creator"])
    page = browser.get(reverse("portal:asset_content", args=[asset.pk]))
    assert b"".join(page.streaming_content) == read(signed.file)
    assert page["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert page["X-Content-SHA256"] == signed.signed_sha256


def test_the_sweeper_signs_approvals_the_broker_lost(approved_image, settings):
    asset, review, _ = approved_image
    assert not SignedAsset.objects.exists()  # the send was captured, nothing signed
    settings.ASSAY_SWEEP_STALE_SECONDS = 0
    assert sweep_unsigned() == 1
    assert SignedAsset.objects.get().asset_id == asset.pk
    assert sweep_unsigned() == 0


def test_init_signing_makes_private_keys_and_is_idempotent(tmp_path, settings):
    settings.ASSAY_SIGNING_DIR = tmp_path / "signing"
    call_command("init_signing")
    folder = settings.ASSAY_SIGNING_DIR
    for name in ("root-ca-key.pem", "signer-key.pem"):
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600
    chain = x509.load_pem_x509_certificates((folder / "signer-chain.pem").read_bytes())
    leaf, root = chain
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert root.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    first = credentials.load_credentials().fingerprint
    call_command("init_signing")
    assert credentials.load_credentials().fingerprint == first
    assert AuditEvent.objects.filter(action="provenance.credentials.created").count() == 1


def test_a_stopped_signers_leftover_files_are_swept_when_the_content_is_signed(approved_image):
    """A signer killed after writing its files, before committing its row, leaves files no
    row names; the next signing of that content (under the content's lock) removes them."""
    asset, review, _ = approved_image
    storage = SignedAsset._meta.get_field("file").storage
    folder = signed_folder(asset.project_id, asset.sha256)
    stray = storage.save(f"{folder}/0123456789abcdef-deadbeef0000-signed.png",
                         ContentFile(b"half-finished"))
    signed = sign_approved(str(asset.pk), review.pk)
    assert signed is not None and storage.exists(signed.file.name)
    assert not storage.exists(stray)
    assert storage.listdir(folder)[1] == [Path(signed.file.name).name]
    # a second call finds the signature and leaves it alone
    assert sign_approved(str(asset.pk), review.pk).pk == signed.pk
    assert storage.exists(signed.file.name)


def test_two_signings_of_the_same_bytes_never_share_a_file_name():
    """Text keeps its bytes when signed (the manifest is a sidecar): names include the
    manifest label, so on storage that overwrites a losing twin cannot delete the winner's."""
    rows = [SignedAsset(project_id=1, source_sha256="ab" * 32, signed_sha256="cd" * 32,
                        manifest_label=manifest.new_label()) for _ in range(2)]
    names = {signed_upload_to(row, "signed.txt") for row in rows}
    assert len(names) == 2
    assert all(n.startswith(signed_folder(1, "ab" * 32) + "/") for n in names)
