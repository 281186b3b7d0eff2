"""Provenance fixtures: development credentials made once, assets approved in-process."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from assay.audit.context import audit_context, new_correlation_id
from assay.generation.models import GenerationJob
from assay.studio.models import Asset
from governance.provenance.credentials import init_dev_credentials
from governance.review import workflow
from governance.review.models import CheckResult, Review

MODEL_REF = {"source": "stabilityai/sd-turbo", "revision": "b261bac6", "name": "sd-turbo"}


@pytest.fixture(scope="session")
def dev_signing_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One development CA for the whole session (files only)."""
    folder = tmp_path_factory.mktemp("signing")
    init_dev_credentials(folder)
    return folder


@pytest.fixture(autouse=True)
def signing(settings: Any, dev_signing_dir: Path) -> Path:
    """Every provenance test signs with the session's development credentials."""
    settings.ASSAY_SIGNING_DIR = dev_signing_dir
    settings.ASSAY_SIGNING_CERT = settings.ASSAY_SIGNING_KEY = ""
    settings.ASSAY_TSA_URL = settings.ASSAY_TRUST_ANCHORS = ""
    settings.ASSAY_PROVENANCE_REVIEWER_IDENTITY = "pseudonym"
    return dev_signing_dir


def image_bytes(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 60, 20),
                fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


def make_image_job(project: Any, user: Any, template: Any, **extra: Any) -> GenerationJob:
    """A finished image job as the runtime leaves it (model, parameters, seed)."""
    return GenerationJob.objects.create(
        project=project, prompt_version=template.latest_version(), rendered_prompt="a kite",
        modality="image", generator_id="image-diffusers", generator_version="1.2",
        plugin_name="image_diffusers", model_ref=MODEL_REF,
        parameters={"steps": 4, "guidance": 0.0, "width": 64, "height": 48, "seed": 7},
        seed=7, queue="gpu.image", requested_by=user, correlation_id="c0ffee",
        status="succeeded", **extra)


def make_image_asset(project: Any, user: Any, job: GenerationJob | None, data: bytes, *,
                     media_type: str = "image/png", parent: Asset | None = None) -> Asset:
    digest = hashlib.sha256(data).hexdigest()
    asset = Asset(project=project, job=job, kind="image", media_type=media_type,
                  byte_size=len(data), sha256=digest, width=64, height=48,
                  created_by=user, parent=parent)
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[media_type]
    asset.file.save(f"output.{ext}", ContentFile(data), save=False)
    asset.save()
    CheckResult.objects.create(asset=asset, project=project, content_sha256=digest,
                               check_id="image-size", check_version="1.0", status="pass",
                               severity="medium", plugin="quality_checks")
    return asset


def approve(asset: Asset, creator: Any, reviewer: Any, capture: Any, *,
            overrides: dict[str, str] | None = None) -> tuple[Review, Any]:
    """Submit and approve through the workflow, inside one request's audit scope (as the
    middleware opens it); returns the review and the captured broker send (the approval
    hook queues the signing task on commit)."""
    review = workflow.open_review(asset, submitted_by=creator)
    with audit_context(correlation_id=new_correlation_id()), \
            mock.patch("assay.celery.app.send_task") as send, capture(execute=True):
        workflow.decide(reviewer, review, decision="approve", content_sha256=asset.sha256,
                        overrides=overrides)
    review.refresh_from_db()
    assert review.status == "approved"
    return review, send
