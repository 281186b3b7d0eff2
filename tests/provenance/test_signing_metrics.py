"""Signing refusals are counted for the worker's metrics, by the refusal's code."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from governance.provenance.models import SignedAsset
from governance.provenance.services import sign_approved, sweep_unsigned
from governance.review.models import Review
from tests.provenance.conftest import approve, generate_text

pytestmark = pytest.mark.django_db


def failures(reason: str) -> float:
    return REGISTRY.get_sample_value("assay_signing_failures_total", {"reason": reason}) or 0.0


def test_a_refused_signing_is_counted(users, project, template,
                                      django_capture_on_commit_callbacks, settings):
    asset = generate_text(users["creator"], project, django_capture_on_commit_callbacks)
    review, _ = approve(asset, users["creator"], users["reviewer"],
                        django_capture_on_commit_callbacks)
    # The approval no longer matches the stored version: signing refuses (a Conflict).
    Review.objects.filter(pk=review.pk).update(content_sha256="0" * 64)
    before = failures("conflict")
    assert sign_approved(str(asset.pk), review.pk) is None
    assert failures("conflict") == before + 1
    settings.ASSAY_SWEEP_STALE_SECONDS = -60  # the approval counts as stale at once
    assert sweep_unsigned() == 0
    assert failures("conflict") == before + 2
    assert not SignedAsset.objects.exists()


def test_a_signed_asset_counts_nothing(users, project, template,
                                       django_capture_on_commit_callbacks):
    asset = generate_text(users["creator"], project, django_capture_on_commit_callbacks)
    review, _ = approve(asset, users["creator"], users["reviewer"],
                        django_capture_on_commit_callbacks)
    before = {code: failures(code) for code in ("conflict", "signing_unavailable")}
    assert sign_approved(str(asset.pk), review.pk) is not None
    assert {code: failures(code) for code in before} == before
