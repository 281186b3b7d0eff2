"""Rows other test modules (the permission matrix, the page budgets) build on."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from governance.publishing.models import Delivery, DeliveryAttempt, WebhookEndpoint


def endpoint_with_log(project: Any, owner: Any) -> tuple[WebhookEndpoint, Delivery]:
    """An endpoint (written directly: no address check, no audit) with one delivered
    ping and one failed one in its log."""
    endpoint = WebhookEndpoint.objects.create(
        project=project, name="Website CMS", url="https://hooks.example.com/assay",
        secret="whsec_test", events=["asset.signed"], created_by=owner)
    now = timezone.now()
    first = None
    for code, ok in ((200, True), (503, False)):
        delivery = Delivery.objects.create(
            project=project, endpoint=endpoint, publisher="webhooks", target=str(endpoint.pk),
            event="ping", status="succeeded" if ok else "failed", attempts=1, max_attempts=8,
            last_status_code=code, last_duration_ms=12, finished_at=now,
            last_error="" if ok else "The endpoint answered 503 Service Unavailable.")
        DeliveryAttempt.objects.create(delivery=delivery, number=1, started_at=now,
                                       duration_ms=12, status_code=code, ok=ok,
                                       error=delivery.last_error)
        first = first or delivery
    assert first is not None
    return endpoint, first
