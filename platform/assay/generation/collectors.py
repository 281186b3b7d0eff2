"""The job queues as Prometheus gauges, read from the database at scrape time.

The web's ``/metrics`` (assay.api.metrics) registers this collector in a fresh registry
per scrape, so the numbers are the database's, whichever web process answers. One
aggregate query over the non-terminal rows only (queued and running), which the
``(status, …)`` indexes keep cheap however many finished jobs the table holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from assay.generation.choices import JobStatus
from assay.generation.models import GenerationJob


class QueueCollector(Collector):
    """``assay_queue_jobs{queue,state}`` and ``assay_queue_oldest_age_seconds{queue}``."""

    def collect(self) -> Iterator[Metric]:
        """One query: per queue, how many jobs wait and run, and the oldest wait."""
        queued, running = Q(status=JobStatus.QUEUED), Q(status=JobStatus.RUNNING)
        rows = (GenerationJob.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
                .order_by().values("queue")
                .annotate(queued=Count("pk", filter=queued), running=Count("pk", filter=running),
                          oldest=Min("queued_at", filter=queued)))
        jobs = GaugeMetricFamily("assay_queue_jobs", "Generation jobs queued or running, "
                                 "by queue.", labels=("queue", "state"))
        oldest = GaugeMetricFamily("assay_queue_oldest_age_seconds", "Seconds the oldest "
                                   "queued job of each queue has waited (0: none waits).",
                                   labels=("queue",))
        now = timezone.now()
        for row in rows:
            jobs.add_metric([row["queue"], JobStatus.QUEUED], row["queued"])
            jobs.add_metric([row["queue"], JobStatus.RUNNING], row["running"])
            age = (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0
            oldest.add_metric([row["queue"]], max(0.0, age))
        yield jobs
        yield oldest
