"""Sending a job to the broker, without ever losing it when the broker is down."""

from __future__ import annotations

import uuid

from django.utils import timezone

from assay.core.dispatch import send_task
from assay.generation.models import GenerationJob

RUN_TASK = "generation.run_job"


def send_job(job_id: uuid.UUID | str) -> bool:
    """Publish the run task for a queued job to its queue; True when the broker took it.

    A failed publish is logged and swallowed: the job row stays ``queued`` with no
    ``last_sent_at``, and the sweeper sends it again once the broker answers.
    """
    job = GenerationJob.objects.filter(pk=job_id).values("queue", "status").first()
    if job is None or job["status"] not in ("queued", "running"):
        return False
    if not send_task(RUN_TASK, [str(job_id)], queue=job["queue"]):
        return False
    GenerationJob.objects.filter(pk=job_id).update(last_sent_at=timezone.now())
    return True
