"""Sending a job to the broker, without ever losing it when the broker is down."""

from __future__ import annotations

import logging
import uuid

from django.utils import timezone

log = logging.getLogger(__name__)

RUN_TASK = "generation.run_job"


def send_job(job_id: uuid.UUID | str) -> bool:
    """Publish the run task for a queued job to its queue; True when the broker took it.

    A failed publish is logged and swallowed: the job row stays ``queued`` with no
    ``last_sent_at``, and the sweeper sends it again once the broker answers.
    """
    from assay.celery import app
    from assay.studio.models import GenerationJob

    job = GenerationJob.objects.filter(pk=job_id).values("queue", "status").first()
    if job is None or job["status"] not in ("queued", "running"):
        return False
    try:
        app.send_task(RUN_TASK, args=[str(job_id)], queue=job["queue"], retry=False)
    except Exception as exc:  # kombu raises OperationalError, redis its own errors
        log.warning("could not send job %s to the broker (%s); the sweeper will retry",
                    job_id, exc)
        return False
    GenerationJob.objects.filter(pk=job_id).update(last_sent_at=timezone.now())
    return True
