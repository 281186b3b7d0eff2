"""Queueing the signing of an approved asset (the sweeper signs what a broker lost)."""

from __future__ import annotations

from assay.core.dispatch import send_task

SIGN_TASK = "provenance.sign_asset"


def queue_signing(asset_id: str, review_id: int, correlation_id: str | None = None) -> bool:
    """Send the signing task to the CPU queue; False (and a warning) if the broker is down.

    The approval's ``correlation_id`` travels along, so the signing event joins it.
    """
    args: list[object] = [asset_id, review_id]
    if correlation_id:
        args.append(correlation_id)
    return send_task(SIGN_TASK, args, queue="cpu")
