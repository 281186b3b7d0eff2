"""The review backlog as Prometheus gauges, read at scrape time.

Open reviews (assets awaiting a decision) by their current stage's name, and how many of
them are past that stage's due time, by the same rules as the review queue's filters
(``ReviewQuerySet.with_queue_facts``). One grouped query over open reviews only.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from governance.review.choices import ReviewStatus
from governance.review.models import Review


class ReviewBacklogCollector(Collector):
    """``assay_reviews_awaiting{stage}`` and ``assay_reviews_overdue{stage}``."""

    def collect(self) -> Iterator[Metric]:
        """Per current stage: open reviews, and those past their due time."""
        now = timezone.now()
        rows = (Review.objects.filter(status=ReviewStatus.IN_REVIEW).with_queue_facts()
                .order_by().values("stage_name")
                .annotate(awaiting=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))))
        awaiting = GaugeMetricFamily("assay_reviews_awaiting", "Asset versions awaiting a "
                                     "review decision, by current stage.", labels=("stage",))
        overdue = GaugeMetricFamily("assay_reviews_overdue", "Of those, how many are past "
                                    "their stage's due time.", labels=("stage",))
        for row in rows:
            awaiting.add_metric([row["stage_name"]], row["awaiting"])
            overdue.add_metric([row["stage_name"]], row["overdue"])
        yield awaiting
        yield overdue
