"""The audit chain's liveness as Prometheus gauges, read at scrape time.

Events are inserted unsealed and a sealer chains them shortly after; a checkpoint signs
the head now and then (assay.audit.chain, assay.audit.checkpoints). A stalled sealer
shows as a growing ``assay_audit_unsealed_oldest_age_seconds``; a stalled checkpoint
task as a growing ``assay_audit_checkpoint_age_seconds``. Three indexed single-row
queries, whatever the log's length.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Max
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from assay.audit.models import AuditEvent, Checkpoint


def _age(now: dt.datetime, then: dt.datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


def _gauge(name: str, documentation: str, value: float | None) -> GaugeMetricFamily:
    """A family with one sample, or none when there is nothing to measure yet."""
    family = GaugeMetricFamily(name, documentation)
    if value is not None:
        family.add_metric([], value)
    return family


class AuditChainCollector(Collector):
    """Ages of the chain head, the last checkpoint and the oldest unsealed event."""

    def collect(self) -> Iterator[Metric]:
        """Seconds since each moment; a family without a sample when it never happened."""
        now = timezone.now()
        head = (AuditEvent.objects.filter(seq__isnull=False).order_by("-seq")
                .values_list("sealed_at", flat=True).first())  # the unique seq index
        unsealed = (AuditEvent.objects.filter(seq__isnull=True).order_by("id")
                    .values_list("created_at", flat=True).first())  # the partial index
        checkpoint = Checkpoint.objects.aggregate(last=Max("created_at"))["last"]
        yield _gauge("assay_audit_head_age_seconds",
                     "Seconds since the chain's newest event (its head) was sealed.",
                     _age(now, head))
        yield _gauge("assay_audit_checkpoint_age_seconds",
                     "Seconds since the last signed checkpoint of the chain's head.",
                     _age(now, checkpoint))
        yield _gauge("assay_audit_unsealed_oldest_age_seconds",
                     "Seconds the oldest event not yet sealed into the chain has waited "
                     "(0: none waits).", _age(now, unsealed) or 0.0)
