"""``GET /metrics``: database-read gauges in the Prometheus text format.

Each layer owns a collector for its own tables; this view composes them in a fresh
registry per scrape, so a web process never mixes in its own process metrics and every
process answers the same (the workers serve their own counters on
``ASSAY_WORKER_METRICS_PORT``). A handful of indexed queries per scrape.

When ``ASSAY_METRICS_TOKEN`` is set the scraper must send ``Authorization: Bearer
<token>`` (the k8s manifests always set it); unset, it is open, for the embedded mode on
loopback.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from assay.audit.collectors import AuditChainCollector
from assay.generation.collectors import QueueCollector
from governance.review.collectors import ReviewBacklogCollector


def collectors() -> list[Collector]:
    """What one scrape reads, layer by layer."""
    return [QueueCollector(), ReviewBacklogCollector(), AuditChainCollector()]


def _authorized(request: HttpRequest, token: str) -> bool:
    """A constant-time match of the bearer token."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8"))


@csrf_exempt  # no cookies, no writes: a POST is answered 405, not a CSRF page
@require_http_methods(["GET", "HEAD"])
def metrics(request: HttpRequest) -> HttpResponse:
    """The gauges, or 401 (plain text, no data) without the configured token."""
    token = settings.ASSAY_METRICS_TOKEN
    if token and not _authorized(request, token):
        response = HttpResponse("A bearer token is required.\n", status=401,
                                content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry()
    for collector in collectors():
        registry.register(collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
