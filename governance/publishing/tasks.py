"""Celery tasks for publishing: thin wrappers around ``governance.publishing.delivery``."""

from __future__ import annotations

from typing import Any

from assay.audit.context import audit_context
from assay.celery import app
from governance.publishing import delivery


@app.task(name="publishing.fan_out")
def fan_out_task(signed_id: str, correlation_id: str = "") -> list[str]:
    """One delivery per (publisher, destination) of a signed asset; their ids."""
    with audit_context(correlation_id=correlation_id or None):
        return delivery.fan_out(signed_id, correlation_id)


@app.task(name="publishing.deliver", bind=True, max_retries=None)
def deliver_task(self: Any, delivery_id: str, correlation_id: str = "") -> None:
    """Attempt one delivery; on a retryable failure, retry after the backoff the service
    chose (the service caps the attempts, so Celery's own cap is off)."""
    with audit_context(correlation_id=correlation_id or None, actor=delivery.PUBLISHER):
        wait = delivery.attempt(delivery_id)
    if wait is not None:
        raise self.retry(countdown=wait)


@app.task(name="publishing.sweep")
def sweep_task() -> int:
    """Re-send deliveries whose task message was lost; returns how many."""
    return delivery.sweep()
