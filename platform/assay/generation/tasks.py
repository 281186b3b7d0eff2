"""Celery tasks: thin wrappers that load by id and call the runtime."""

from __future__ import annotations

import os

from assay.celery import app
from assay.generation.runtime import run_job
from assay.generation.sweeper import sweep


@app.task(name="generation.run_job", bind=True)
def run_job_task(self: object, job_id: str) -> str | None:
    """Claim and run one generation job (a redelivery is a no-op)."""
    hostname = getattr(getattr(self, "request", None), "hostname", None) or "worker"
    return run_job(job_id, worker=f"{hostname}:{os.getpid()}")


@app.task(name="generation.sweep")
def sweep_task() -> int:
    """Re-send jobs the broker lost; returns how many were sent."""
    return len(sweep())
