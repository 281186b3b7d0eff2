"""Brand-style fixtures: an image prompt, stored image assets, and approving one."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from PIL import Image

from assay.generation.services import submit_generation
from assay.generation.storage import store_outputs
from assay.plugins.contracts import GeneratedOutput
from assay.studio.models import Asset
from governance.review.choices import DEFAULT_BLOCKING, DEFAULT_STAGES, ReviewStatus
from governance.review.models import Review
from tests.conftest import make_template


def image_template(project: Any, user: Any) -> Any:
    """An image prompt ``shot`` on the diffusers generator (its model is never loaded)."""
    return make_template(project, user, slug="shot", generator="image-diffusers",
                         text="a photo of {{ product }}")


def png(color: tuple[int, int, int] = (200, 60, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buf, "PNG")
    return buf.getvalue()


def image_asset(project: Any, user: Any, capture: Any, *,
                color: tuple[int, int, int] = (200, 60, 20)) -> Asset:
    """A stored image asset of ``project`` from a plain ``shot`` job (no review)."""
    with capture(execute=False):
        job = submit_generation(user, project=project, template="shot",
                                variables={"product": "Kite"})
    [asset] = store_outputs(job, [GeneratedOutput(kind="image", media_type="image/png",
                                                  data=png(color), width=64, height=64)])
    return asset


def approve(asset: Asset, status: str = ReviewStatus.APPROVED) -> Review:
    """A finished review of the asset's exact content (the workflow is tested elsewhere)."""
    return Review.objects.create(
        asset=asset, project=asset.project, content_sha256=asset.sha256, status=status,
        stages=[dict(s) for s in DEFAULT_STAGES], blocking_severities=list(DEFAULT_BLOCKING),
        stage_started_at=timezone.now(), finished_at=timezone.now())


def approved_image(project: Any, user: Any, capture: Any) -> Asset:
    """An image asset of ``project`` whose review approved it."""
    asset = image_asset(project, user, capture)
    approve(asset)
    return asset
