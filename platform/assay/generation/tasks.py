"""Celery tasks: thin wrappers that load by id and call the runtime."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.signals import worker_shutting_down
from django.conf import settings

from assay.celery import app
from assay.generation.drain import DRAIN
from assay.generation.runtime import run_job
from assay.generation.sweeper import sweep

log = logging.getLogger(__name__)


@app.task(name="generation.run_job", bind=True)
def run_job_task(self: object, job_id: str) -> str | None:
    """Claim and run one generation job (a redelivery is a no-op)."""
    hostname = getattr(getattr(self, "request", None), "hostname", None) or "worker"
    return run_job(job_id, worker=f"{hostname}:{os.getpid()}")


@app.task(name="generation.sweep")
def sweep_task() -> int:
    """Re-send jobs the broker lost; returns how many were sent."""
    return len(sweep())


@worker_shutting_down.connect
def drain_on_shutdown(sig: str = "", how: str = "", **_: Any) -> None:
    """SIGTERM (Kubernetes stopping the pod): the batch in hand gets
    ASSAY_WORKER_DRAIN_SECONDS to finish before it is handed back (assay.generation.drain).

    Runs inside Celery's signal handler, in the process running the job (solo pool).
    """
    seconds = settings.ASSAY_WORKER_DRAIN_SECONDS
    DRAIN.begin(seconds)
    log.warning("worker %s shutdown (%s): claiming nothing more; a batch in hand has %ss to "
                "finish before it is handed back", how or "warm", sig, seconds)
