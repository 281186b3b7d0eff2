"""Signed files read back with c2pa-python's own Reader, not through Assay's verify code.

Each test pins one provenance finding of issue 9 (section 4): what is signed into the
manifest is asserted on the raw manifest store, so the summary cannot paper over it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import c2pa
import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from assay.audit.context import audit_context
from assay.audit.models import AuditEvent
from governance.provenance.credentials import ROOT_CERT, make_root
from governance.provenance.models import SignedAsset
from governance.provenance.services import resize_signed, sign_asset, sweep_unsigned
from governance.provenance.summary import sentences
from governance.provenance.tasks import sign_asset_task
from governance.provenance.verify import verify_bytes
from governance.review import workflow
from governance.review.checks import run_checks
from governance.review.models import CheckResult, Review
from governance.review.workflow import revise_text
from tests.provenance.conftest import (
    approve,
    generate_text,
    image_bytes,
    make_image_asset,
    make_image_job,
)

pytestmark = pytest.mark.django_db
UNTRUSTED = "signingCredential.untrusted"


def read(field: Any) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def our_root() -> str:
    return (Path(settings.ASSAY_SIGNING_DIR) / ROOT_CERT).read_text()


def stranger_root() -> str:
    return make_root()[0].public_bytes(serialization.Encoding.PEM).decode()


def raw_store(data: bytes, sidecar: bytes | None = None, *, anchors: str = "",
              media_type: str = "image/png") -> dict[str, Any]:
    """The manifest store as c2pa-python reads it (its own Context, no Assay code)."""
    config: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    if anchors:
        config["trust"] = {"user_anchors": anchors}
    with c2pa.Context.from_dict(config) as ctx, \
            c2pa.Reader(media_type, io.BytesIO(data), sidecar, ctx) as reader:
        return json.loads(reader.json())


def active(store: dict[str, Any]) -> dict[str, Any]:
    return store["manifests"][store["active_manifest"]]


def assertion(manifest: dict[str, Any], label: str) -> dict[str, Any]:
    return next(a["data"] for a in manifest["assertions"] if a["label"] == label)


def parent_of(store: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    [ingredient] = [i for i in manifest["ingredients"] if i["relationship"] == "parentOf"]
    return ingredient


def codes(results: dict[str, Any], kind: str) -> list[str]:
    return [item["code"] for item in (results.get("activeManifest") or {}).get(kind, [])]


def assert_recorded_trusted(ingredient: dict[str, Any]) -> None:
    """The validation signed into the ingredient says trusted, with no failure at all."""
    recorded = ingredient["validation_results"]
    assert codes(recorded, "failure") == [], recorded
    assert "signingCredential.trusted" in codes(recorded, "success")


@pytest.fixture
def img2img(users, project, template, django_capture_on_commit_callbacks):
    """An approved, signed parent image and its approved, signed image-to-image child."""
    creator, reviewer = users["creator"], users["reviewer"]
    parent = make_image_asset(project, creator, make_image_job(
        project, creator, template, parameters={"steps": 4, "guidance": 0.0, "width": 64,
                                                "height": 48, "strength": 0.6, "seed": 7}),
        image_bytes(color=(1, 2, 3)))
    parent_review, _ = approve(parent, creator, reviewer, django_capture_on_commit_callbacks)
    parent_signed = sign_asset(parent, parent_review)
    job = make_image_job(project, creator, template, parent_asset=parent, parameters={
        "steps": 4, "guidance": 0.0, "width": 64, "height": 48, "strength": 0.35, "seed": 7})
    child = make_image_asset(project, creator, job, image_bytes(color=(9, 9, 9)),
                             parent=parent)
    child_review, _ = approve(child, creator, reviewer, django_capture_on_commit_callbacks)
    return parent_signed, child, sign_asset(child, child_review)


# -- 1. ingredients are validated with the trust anchors verification uses ---------------

def test_a_childs_signed_ingredient_records_its_assay_parent_as_trusted(img2img):
    parent_signed, child, child_signed = img2img
    data = read(child_signed.file)
    for anchors in (our_root(), ""):  # what was signed in does not depend on the reader
        store = raw_store(data, anchors=anchors)
        ingredient = parent_of(store, active(store))
        assert ingredient["active_manifest"] == parent_signed.manifest_label
        assert_recorded_trusted(ingredient)
    trusted = raw_store(data, anchors=our_root())
    assert trusted["validation_state"] == "Trusted"
    assert UNTRUSTED not in json.dumps(trusted["validation_results"])

    small = resize_signed(child, 32, 24)  # a derivative: the same, one level further
    store = raw_store(read(small.file), anchors=our_root())
    assert store["validation_state"] == "Trusted"
    assert_recorded_trusted(parent_of(store, active(store)))
    assert UNTRUSTED not in json.dumps(store)


def test_an_unapproved_init_image_is_recorded_inside_its_child(
        users, project, template, django_capture_on_commit_callbacks):
    creator = users["creator"]
    parent = make_image_asset(project, creator, make_image_job(project, creator, template),
                              image_bytes(color=(4, 4, 4)))  # never approved
    child = make_image_asset(project, creator, make_image_job(
        project, creator, template, parent_asset=parent), image_bytes(color=(8, 8, 8)),
        parent=parent)
    review, _ = approve(child, creator, users["reviewer"], django_capture_on_commit_callbacks)
    data = read(sign_asset(child, review).file)
    store = raw_store(data, anchors=our_root())
    assert store["validation_state"] == "Trusted"
    ingredient = parent_of(store, active(store))
    assert_recorded_trusted(ingredient)
    gov = assertion(store["manifests"][ingredient["active_manifest"]], "org.assay.governance")
    assert gov["approved"] is False and gov["asset"]["sha256"] == parent.sha256
    assert not SignedAsset.objects.filter(asset=parent).exists()  # nothing handed out
    summary = verify_bytes(data, anchors=our_root()).summary
    assert len(summary["history"]) == 2 and summary["model"]["id"] == "sd-turbo"
    [approval] = summary["approvals"]
    assert approval["content_sha256"] == child.sha256


# -- 4. only parameters that applied -------------------------------------------------------

def test_text_to_image_records_no_strength_but_image_to_image_does(img2img):
    parent_signed, _, child_signed = img2img
    parent = assertion(active(raw_store(read(parent_signed.file))), "org.assay.governance")
    assert "strength" not in parent["generation"]["parameters"]
    assert parent["generation"]["parameters"]["steps"] == 4
    child = assertion(active(raw_store(read(child_signed.file))), "org.assay.governance")
    assert child["generation"]["parameters"]["strength"] == 0.35


# -- 2. a revised text carries its parent's manifest ---------------------------------------

def approve_open(asset, reviewer, capture, **kwargs) -> Review:
    review = Review.objects.get(asset=asset, status="in_review")
    with capture(execute=False):
        workflow.decide(reviewer, review, decision="approve", content_sha256=asset.sha256,
                        **kwargs)
    review.refresh_from_db()
    assert review.status == "approved"
    return review


def revised(users, project, capture, *, approve_parent: bool):
    creator, reviewer = users["creator"], users["reviewer"]
    original = generate_text(creator, project, capture)
    parent_signed = None
    if approve_parent:
        parent_signed = sign_asset(original, approve_open(original, reviewer, capture))
    with capture(execute=False):
        edited = revise_text(creator, original, text=original.text + " Edited by a person.")
    run_checks(str(edited.pk))
    if not Review.objects.filter(asset=edited).exists():  # the policy may not auto-submit
        workflow.open_review(edited, submitted_by=creator)
    signed = sign_asset(edited, approve_open(edited, reviewer, capture))
    return original, parent_signed, edited, signed


@pytest.mark.parametrize("approve_parent", [False, True],
                         ids=["edited-in-review", "edited-after-approval"])
def test_a_revised_text_carries_its_parents_manifest_history_and_model(
        users, project, template, django_capture_on_commit_callbacks, approve_parent):
    original, parent_signed, edited, signed = revised(
        users, project, django_capture_on_commit_callbacks, approve_parent=approve_parent)
    text, sidecar = read(signed.file), read(signed.sidecar)
    store = raw_store(text, sidecar, anchors=our_root(), media_type="text/plain")
    assert store["validation_state"] == "Trusted", store["validation_results"]
    ingredient = parent_of(store, active(store))
    assert ingredient["active_manifest"] in store["manifests"]
    assert_recorded_trusted(ingredient)
    parent = store["manifests"][ingredient["active_manifest"]]
    [created] = assertion(parent, "c2pa.actions.v2")["actions"]
    assert created["action"] == "c2pa.created"
    assert created["softwareAgent"]["org.assay.model"]["id"]
    gov = assertion(parent, "org.assay.governance")
    assert gov["asset"]["sha256"] == original.sha256
    if approve_parent:
        assert ingredient["active_manifest"] == parent_signed.manifest_label
        assert gov["approved"] is True and gov["approvals"]
    else:  # recorded for its history only: it says plainly it was not approved
        assert gov["approved"] is False and "approvals" not in gov
        assert SignedAsset.objects.filter(asset=original).count() == 0

    report = verify_bytes(text, sidecar=sidecar, anchors=our_root())
    assert report.state == "trusted", report.failures
    summary = report.summary
    assert [h["manifest"] for h in summary["history"]] == [
        signed.manifest_label, ingredient["active_manifest"]]
    assert summary["model"]["id"] == created["softwareAgent"]["org.assay.model"]["id"]
    assert summary["generator"]["name"] == "dummy-echo"
    assert summary["actions"] == ["c2pa.opened", "c2pa.edited"]
    [approval] = summary["approvals"]  # the edited version's own approval
    assert approval["content_sha256"] == edited.sha256
    assert any(line.startswith("History: 2 signed versions") for line in report.lines)


# -- 3. override reasons ------------------------------------------------------------------

def test_an_approval_past_a_warning_records_the_reason(
        users, project, template, django_capture_on_commit_callbacks):
    creator = users["creator"]
    asset = make_image_asset(project, creator, make_image_job(project, creator, template),
                             image_bytes())
    CheckResult.objects.create(asset=asset, project=project, content_sha256=asset.sha256,
                               check_id="near-duplicate", check_version="1.0", status="warn",
                               severity="low", plugin="quality_checks")
    reason = "A deliberate variant of last week's banner."
    review, _ = approve(asset, creator, users["reviewer"], django_capture_on_commit_callbacks,
                        overrides={"near-duplicate": reason})
    data = read(sign_asset(asset, review).file)
    gov = assertion(active(raw_store(data)), "org.assay.governance")
    [approval] = gov["approvals"]
    assert approval["overrides"] == [{"check_id": "near-duplicate", "reason": reason}]
    warned = {c["check_id"]: c["status"] for c in gov["checks"]}
    assert warned["near-duplicate"] == "warn"
    report = verify_bytes(data, anchors=our_root())
    assert report.summary["approvals"][0]["overrides"][0]["reason"] == reason
    [line] = [ln for ln in report.lines if ln.startswith("Approved at stage")]
    assert f"past the warning near-duplicate (reason: {reason})" in line


# -- 5. an untrusted signer's claims are said to be claims ---------------------------------

def test_an_untrusted_files_signer_and_approvals_are_claims_not_facts(
        users, project, template, django_capture_on_commit_callbacks):
    creator = users["creator"]
    asset = make_image_asset(project, creator, make_image_job(project, creator, template),
                             image_bytes())
    review, _ = approve(asset, creator, users["reviewer"], django_capture_on_commit_callbacks)
    data = read(sign_asset(asset, review).file)
    trusted = verify_bytes(data, anchors=our_root())

    forged = verify_bytes(data, anchors=stranger_root())  # a signer this server does not trust
    assert raw_store(data, anchors=stranger_root())["validation_state"] == "Valid"
    assert forged.state == "valid" and forged.headline.startswith("Valid but untrusted")
    assert "only claims" in forged.headline
    summary = forged.summary
    assert summary["trusted"] is False and trusted.summary["trusted"] is True
    for fact in ("signed_by", "approvals", "model", "generator", "ai_generated"):
        assert fact not in summary
    claims = summary["claimed_by_untrusted_signer"]
    assert claims["approvals"] == trusted.summary["approvals"]
    assert claims["signed_by"]["common_name"] == "Assay Content Signing"

    assert forged.lines[0].startswith("Claimed by an untrusted signer")
    assert not set(forged.lines) & set(trusted.lines)  # never word for word
    assert all(line.startswith("  ") for line in forged.lines[1:])
    said = " ".join(forged.lines)
    assert "It says it was signed by Assay Content Signing" in said
    assert "this is not confirmed" in said
    assert "It says it was approved at stage 'review'" in said
    assert [ln.strip() for ln in forged.lines[1:]] == sentences(claims, claimed=True)

    damaged = bytearray(data)
    damaged[damaged.index(b"IDAT") + 12] ^= 1
    invalid = verify_bytes(bytes(damaged), anchors=our_root())
    assert invalid.state == "invalid" and "approvals" not in invalid.summary
    assert invalid.summary["claimed_by_invalid_credentials"]["approvals"]
    assert invalid.lines[0].startswith("Claimed by Content Credentials that failed")


def test_a_long_claimed_reason_is_cut_in_lines():
    claims = {"signed_by": {"common_name": "x" * 1000}, "signed_at": None,
              "ai_generated": False, "approvals": [
                  {"stage": "s", "reviewer": "r", "reviewer_role": "owner", "decided_at": "t",
                   "overrides": [{"check_id": "c", "reason": "y" * 5000}]}]}
    for line in sentences(claims, claimed=True):
        assert len(line) < 700


# -- the signing event joins the approval --------------------------------------------------

def test_the_signing_event_carries_the_approvals_correlation_id(
        users, project, template, django_capture_on_commit_callbacks, settings):
    creator = users["creator"]
    asset = make_image_asset(project, creator, make_image_job(project, creator, template),
                             image_bytes())
    review, send = approve(asset, creator, users["reviewer"],
                           django_capture_on_commit_callbacks)
    approved = AuditEvent.objects.get(action="review.asset.approved")
    [call] = send.call_args_list
    assert call.kwargs["args"] == [str(asset.pk), review.pk, approved.correlation_id]
    with audit_context(correlation_id="the-worker-s-own"):
        sign_asset_task(*call.kwargs["args"])  # what the worker runs
    signed = AuditEvent.objects.get(action="provenance.asset.signed")
    assert signed.correlation_id == approved.correlation_id

    other = make_image_asset(project, creator, make_image_job(project, creator, template),
                             image_bytes(color=(5, 6, 7)))
    approve(other, creator, users["reviewer"], django_capture_on_commit_callbacks)
    settings.ASSAY_SWEEP_STALE_SECONDS = 0
    assert sweep_unsigned() == 1  # the broker lost it: the sweeper joins it all the same
    late = AuditEvent.objects.filter(action="provenance.asset.signed").latest("id")
    assert late.correlation_id == AuditEvent.objects.filter(
        action="review.asset.approved").latest("id").correlation_id
    assert late.correlation_id != approved.correlation_id
