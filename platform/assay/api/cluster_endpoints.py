"""The probes and /metrics answer whatever Host header the cluster sends.

The kubelet's probes and Prometheus address a pod by its IP (``Host: 10.4.2.7:8000``),
which ALLOWED_HOSTS rightly refuses for everything else: Django's CommonMiddleware would
answer 400 before the view ran. These three views build no URLs and hand out nothing a
Host header could poison (/metrics keeps its bearer token), so this middleware, placed
after the security and CSP middlewares (which add their headers and never read the host
for these paths) and before CommonMiddleware, serves them before host validation; every
other path is validated as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from assay.api.health import healthz, readyz
from assay.api.metrics import metrics

CLUSTER_ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics,
}


class ClusterEndpointsMiddleware:
    """Route the probe and metrics paths straight to their views."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """The view's answer for a cluster endpoint, else the normal chain's."""
        view = CLUSTER_ENDPOINTS.get(request.path_info)
        return view(request) if view is not None else self.get_response(request)
