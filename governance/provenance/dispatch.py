"""Queueing the signing of an approved asset (the sweeper signs what a broker lost)."""

from __future__ import annotations

from assay.core.dispatch import send_task

SIGN_TASK = "provenance.sign_asset"


def queue_signing(asset_id: str, review_id: int) -> bool:
    """Send the signing task to the CPU queue; False (and a warning) if the broker is down."""
    return send_task(SIGN_TASK, [asset_id, review_id], queue="cpu")
