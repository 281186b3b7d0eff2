"""Celery tasks for review: thin wrappers around the services."""

from __future__ import annotations

from assay.celery import app
from governance.review.checks import run_checks
from governance.review.deadlines import sweep_deadlines


@app.task(name="review.run_checks")
def run_checks_task(asset_id: str, correlation_id: str | None = None) -> int:
    """Run the checks on one asset version; returns how many results were stored.

    ``correlation_id`` is the request's that made the asset (a revision); the checks'
    events and the review they open carry it.
    """
    return len(run_checks(asset_id, correlation_id=correlation_id))


@app.task(name="review.sweep")
def sweep_task() -> dict[str, int]:
    """Reminders, escalations and re-queued checks."""
    return sweep_deadlines()
