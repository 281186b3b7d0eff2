"""The sweeper: re-sends jobs the broker lost, so nothing submitted is ever lost.

Two kinds of job are re-sent: queued jobs not sent (or last sent) longer ago than
ASSAY_SWEEP_STALE_SECONDS (the broker was down at submit, or the embedded broker lost
a message), and running jobs whose lease expired (their worker was killed), on the first
sweep after the lapse. Re-sending
is always safe: the run task's claim makes every extra delivery a no-op.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from assay.audit.context import Actor, audit_context
from assay.audit.services import record
from assay.generation.choices import JobStatus
from assay.generation.dispatch import send_job
from assay.generation.models import GenerationJob


def sweep(*, limit: int = 500) -> list[str]:
    """Re-send stale queued and abandoned running jobs; returns the ids sent."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.ASSAY_SWEEP_STALE_SECONDS)
    candidates = GenerationJob.objects.filter(
        Q(status=JobStatus.QUEUED, last_sent_at__isnull=True, queued_at__lt=stale)
        | Q(status=JobStatus.QUEUED, last_sent_at__lt=stale)
        | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    ).order_by("queued_at")[:limit]
    lease = timedelta(seconds=settings.ASSAY_JOB_LEASE_SECONDS)
    sent: list[str] = []
    for job in candidates:
        # A lapsed running job is re-sent on the first sweep after its lease ran out (not
        # a stale period after it was last sent), then once per lease period while no
        # worker takes it: recovery takes about a lease plus one sweep interval.
        if (job.status == JobStatus.RUNNING and job.last_sent_at
                and job.last_sent_at >= job.lease_expires_at
                and job.last_sent_at > now - lease):
            continue
        if send_job(job.pk):
            sent.append(str(job.pk))
            with audit_context(correlation_id=job.correlation_id,
                               actor=Actor.system("sweeper")):
                record("studio.generation.requeued", target=job, data={
                    "status": job.status, "attempts": job.attempts,
                    "why": "lease expired" if job.status == JobStatus.RUNNING
                    else "not started in time",
                })
    return sent
