"""Telling the rest of the platform (and plugins) that an asset was approved."""

from __future__ import annotations

import logging
from typing import Any

from assay.audit.context import current
from assay.plugins.manager import get_plugins

log = logging.getLogger(__name__)


def announce_approval(review: Any, *, correlation_id: str | None = None) -> None:
    """Raise the one approval event, the ``asset_approved`` hook (provenance signs there,
    publishers publish), carrying the approval's correlation id so that whatever the hook
    starts (the signing task) joins the approval in the audit log."""
    try:
        get_plugins().pm.hook.asset_approved(
            asset_id=str(review.asset_id), project=review.project.slug,
            sha256=review.content_sha256, review_id=review.pk,
            correlation_id=correlation_id or current().correlation_id or "")
    except Exception:  # a publisher plugin failing must not undo or hide the approval
        log.exception("an asset_approved hook failed for asset %s", review.asset_id)
