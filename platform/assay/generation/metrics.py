"""Worker-side Prometheus metrics: jobs, batches and accelerator time, as they happen.

Every worker pod runs one Celery worker with the solo pool (one process), so these
process-local counters and histograms are exact: no multiprocess mode. When
``ASSAY_WORKER_METRICS_PORT`` is above 0 the worker's main process serves the default
registry on that port once it is ready (``worker_ready``). The web never serves these:
its ``/metrics`` builds a fresh registry of database-read gauges per scrape.

The runtime calls :func:`observe_batch` after each model call and :func:`observe_finished`
once per run; all the logic lives here so the runtime stays about running jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery.signals import worker_ready
from django.conf import settings
from prometheus_client import Counter, Histogram, start_http_server

from assay.generation.choices import TERMINAL_STATUSES
from assay.generation.models import GenerationJob

log = logging.getLogger(__name__)

#: Seconds: a short text job takes well under one, a large image batch minutes.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
                    float("inf"))
#: Jobs per batched model call (ASSAY_BATCH_MAX_JOBS is at most a few dozen).
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, float("inf"))

JOB_DURATION = Histogram(
    "assay_job_duration_seconds", "Seconds from a job's start on this worker to its finish.",
    ("queue", "generator", "status"), buckets=DURATION_BUCKETS)
BATCH_DURATION = Histogram(
    "assay_batch_duration_seconds", "Seconds one batched model call took.",
    ("queue", "generator"), buckets=DURATION_BUCKETS)
BATCH_SIZE = Histogram(
    "assay_batch_size", "Jobs per batched model call.", ("queue", "generator"),
    buckets=BATCH_BUCKETS)
ACCELERATOR_SECONDS = Counter(
    "assay_accelerator_seconds", "Seconds of model calls on an accelerator (not the CPU).",
    ("queue", "device"))
JOBS_FINISHED = Counter(
    "assay_jobs_finished", "Jobs this worker finished, by final status.", ("queue", "status"))


def observe_batch(job: GenerationJob, size: int, seconds: float, device: str) -> None:
    """One model call of ``size`` jobs led by ``job`` took ``seconds`` on ``device``."""
    labels = {"queue": job.queue, "generator": job.generator_id}
    BATCH_DURATION.labels(**labels).observe(seconds)
    BATCH_SIZE.labels(**labels).observe(size)
    if device != "cpu":  # as the usage record counts it: CPU time is not accelerator time
        ACCELERATOR_SECONDS.labels(queue=job.queue, device=device).inc(seconds)


def observe_finished(batch: Sequence[tuple[GenerationJob, str]]) -> None:
    """Count the jobs of a run that this delivery finished, as the database says.

    One query for the whole batch: a job counts only when it is terminal and still holds
    this run's claim token, so a job another delivery took over (and finished) is
    counted by that worker alone, and nothing is counted twice.
    """
    tokens = {str(job.pk): token for job, token in batch}
    rows = (GenerationJob.objects.filter(pk__in=list(tokens), status__in=TERMINAL_STATUSES)
            .values_list("pk", "claim_token", "queue", "generator_id", "status",
                         "started_at", "finished_at"))
    for pk, token, queue, generator, status, started, finished in rows:
        if tokens.get(str(pk)) != token:
            continue
        JOBS_FINISHED.labels(queue=queue, status=status).inc()
        if started is not None and finished is not None:
            JOB_DURATION.labels(queue=queue, generator=generator, status=status).observe(
                max(0.0, (finished - started).total_seconds()))


def serve(port: int) -> bool:
    """Serve the default registry on ``port`` (all interfaces); False when it cannot.

    A port already taken is logged, not raised: a worker without metrics still works.
    """
    try:
        start_http_server(port)
    except OSError:
        log.exception("could not serve worker metrics on port %d", port)
        return False
    log.info("serving worker metrics on port %d", port)
    return True


@worker_ready.connect(weak=False)
def _serve_when_ready(**_: Any) -> None:
    """The worker's main process (the one that runs tasks, with the solo pool) serves."""
    if settings.ASSAY_WORKER_METRICS_PORT > 0:
        serve(settings.ASSAY_WORKER_METRICS_PORT)
