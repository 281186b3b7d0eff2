"""Signed files for the portal's verify tests: a development CA that is also the trust
anchor, an approved and signed PNG, and an approved and signed text with its sidecar.

Import the ``*_fixture`` functions into a test module (they register under the names
``signing``, ``signed_png``, ``signed_text``); ``signing`` is autouse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.provenance.services import sign_asset
from governance.review import workflow
from governance.review.models import Review
from tests.provenance.conftest import (
    approve,
    generate_text,
    image_bytes,
    make_image_asset,
    make_image_job,
)


@pytest.fixture(autouse=True, name="signing")
def signing_fixture(dev_signing: Path) -> Path:
    """Sign with a development CA that is also the trust anchor (as `make run` does)."""
    return dev_signing


@pytest.fixture(name="signed_png")
def signed_png_fixture(users, project, template, django_capture_on_commit_callbacks) -> bytes:
    job = make_image_job(project, users["creator"], template)
    asset = make_image_asset(project, users["creator"], job, image_bytes())
    review, _ = approve(asset, users["creator"], users["reviewer"],
                        django_capture_on_commit_callbacks)
    with sign_asset(asset, review).file.open("rb") as handle:
        return handle.read()


@pytest.fixture(name="signed_text")
def signed_text_fixture(users, project, template, django_capture_on_commit_callbacks
                ) -> tuple[bytes, bytes]:
    asset = generate_text(users["creator"], project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    with django_capture_on_commit_callbacks(execute=False):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=asset.sha256)
    signed = sign_asset(asset, Review.objects.get(pk=review.pk))
    with signed.file.open("rb") as text, signed.sidecar.open("rb") as sidecar:
        return text.read(), sidecar.read()
