"""Queueing publications and deliveries (rows first; a sweeper re-sends what was lost)."""

from __future__ import annotations

from assay.core.dispatch import send_task

FAN_OUT_TASK = "publishing.fan_out"
DELIVER_TASK = "publishing.deliver"


def queue_publications(signed_id: str, correlation_id: str | None = None) -> bool:
    """After a signing commits: make one delivery per (publisher, destination)."""
    return send_task(FAN_OUT_TASK, [signed_id, correlation_id or ""], queue="cpu")


def queue_delivery(delivery_id: str, correlation_id: str | None = None) -> bool:
    """Attempt one delivery on the CPU queue (its retries reschedule themselves)."""
    return send_task(DELIVER_TASK, [delivery_id, correlation_id or ""], queue="cpu")
