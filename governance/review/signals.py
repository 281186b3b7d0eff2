"""Telling the rest of the platform (and plugins) that an asset was approved."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

from assay.plugins.manager import get_plugins

log = logging.getLogger(__name__)

#: Sent after the approving transaction commits; the provenance service listens here.
asset_approved = Signal()


def announce_approval(review: Any) -> None:
    """Send the Django signal and call the plugins' ``asset_approved`` hook."""
    asset_approved.send(sender=type(review), review=review)
    try:
        get_plugins().pm.hook.asset_approved(
            asset_id=str(review.asset_id), project=review.project.slug,
            sha256=review.content_sha256)
    except Exception:  # a publisher plugin failing must not undo or hide the approval
        log.exception("an asset_approved hook failed for asset %s", review.asset_id)
