"""Queueing checks for stored assets (the sweeper re-queues what a broker outage lost)."""

from __future__ import annotations

from assay.core.dispatch import send_task

RUN_CHECKS = "review.run_checks"


def queue_checks(asset_ids: list[str], *, correlation_id: str | None = None) -> int:
    """Send one check task per asset to the CPU queue; returns how many were sent.

    ``correlation_id`` (the request that made the asset, e.g. a revision) travels along,
    so the checks' events join it; without one the task uses its job's.
    """
    extra: list[object] = [correlation_id] if correlation_id else []
    return sum(send_task(RUN_CHECKS, [asset_id, *extra], queue="cpu")
               for asset_id in asset_ids)
