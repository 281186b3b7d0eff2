"""Queueing checks for stored assets (the sweeper re-queues what a broker outage lost)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

RUN_CHECKS = "review.run_checks"


def queue_checks(asset_ids: list[str]) -> int:
    """Send one check task per asset to the CPU queue; returns how many were sent."""
    from assay.celery import app

    sent = 0
    for asset_id in asset_ids:
        try:
            app.send_task(RUN_CHECKS, args=[asset_id], queue="cpu", retry=False)
            sent += 1
        except Exception as exc:  # broker down: the review sweeper finds unchecked assets
            log.warning("could not queue checks for asset %s (%s)", asset_id, exc)
    return sent
