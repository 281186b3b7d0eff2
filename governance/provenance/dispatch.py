"""Queueing the signing of an approved asset (the sweeper signs what a broker lost)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

SIGN_TASK = "provenance.sign_asset"


def queue_signing(asset_id: str, review_id: int) -> bool:
    """Send the signing task to the CPU queue; False (and a warning) if the broker is down."""
    from assay.celery import app

    try:
        app.send_task(SIGN_TASK, args=[asset_id, review_id], queue="cpu", retry=False)
    except Exception as exc:  # broker down: provenance.sweep signs it later
        log.warning("could not queue signing of asset %s (%s)", asset_id, exc)
        return False
    return True
