"""Queueing checks for stored assets (the sweeper re-queues what a broker outage lost)."""

from __future__ import annotations

from assay.core.dispatch import send_task

RUN_CHECKS = "review.run_checks"


def queue_checks(asset_ids: list[str]) -> int:
    """Send one check task per asset to the CPU queue; returns how many were sent."""
    return sum(send_task(RUN_CHECKS, [asset_id], queue="cpu") for asset_id in asset_ids)
