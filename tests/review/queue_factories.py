"""Reviews built directly for the queue and inbox tests: an asset (text or image) with the
check results asked for, opened for review through the review policy (so its inbox
entries are written the real way)."""

from __future__ import annotations

import hashlib
import io
import itertools
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from PIL import Image

from assay.studio.models import Asset, Project
from governance.review import inbox, workflow
from governance.review.choices import DUE_SOON_HOURS
from governance.review.models import CheckResult, InboxItem, Review

_counter = itertools.count(1)


def png(colour: tuple[int, int, int] = (200, 40, 40), size: int = 8) -> bytes:
    """A small PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def make_asset(project: Project, creator: Any, *, kind: str = "text",
               text: str = "") -> Asset:
    """A stored asset version (unique content) made by ``creator``."""
    n = next(_counter)
    if kind == "image":
        data = png((n % 256, 40, 40))
        asset = Asset(project=project, kind="image", media_type="image/png",
                      byte_size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                      width=8, height=8, created_by=creator)
        asset.file.save(f"queue-test-{n}.png", ContentFile(data), save=False)
        asset.save()
        return asset
    text = text or f"Meet the Kite number {n}, the lightest kettle we have made."
    data = text.encode()
    return Asset.objects.create(project=project, kind="text", media_type="text/plain",
                                text=text, byte_size=len(data),
                                sha256=hashlib.sha256(data).hexdigest(), created_by=creator)


def make_review(project: Project, creator: Any, *, kind: str = "text",
                checks: tuple[str, ...] = ("pass",), started: datetime | None = None,
                text: str = "") -> Review:
    """An open review of a new asset with one check result per status in ``checks``."""
    asset = make_asset(project, creator, kind=kind, text=text)
    for index, status in enumerate(checks):
        CheckResult.objects.create(
            asset=asset, project=project, content_sha256=asset.sha256,
            check_id=f"check-{index}", check_version="1", status=status,
            severity="low", summary=f"{status} result")
    review = workflow.open_review(asset)
    if started is not None:  # as if it had been opened then (its inbox entries too)
        Review.objects.filter(pk=review.pk).update(stage_started_at=started)
        review.refresh_from_db()
        due = inbox.stage_due_at(review)
        due_soon = due - timedelta(hours=DUE_SOON_HOURS)
        InboxItem.objects.filter(review=review).update(
            created_at=started, due_at=due, due_soon_at=due_soon if due_soon > started else None)
    return review


def hours_ago(now: datetime, hours: float) -> datetime:
    """``now`` minus ``hours``."""
    return now - timedelta(hours=hours)
