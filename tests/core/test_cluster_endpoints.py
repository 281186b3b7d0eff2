"""The kubelet and Prometheus reach a pod by its IP: the probes and /metrics answer any
Host header, and every other path still refuses one ALLOWED_HOSTS does not list."""

from __future__ import annotations

import pytest
from django.test import Client

POD = "10.4.2.7:8000"


@pytest.fixture
def cluster(settings) -> Client:
    settings.ALLOWED_HOSTS = ["assay.example.com"]
    return Client()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_cluster_endpoints_answer_by_pod_ip(cluster, path):
    response = cluster.get(path, HTTP_HOST=POD)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Security-Policy"]  # the usual headers still apply
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_metrics_by_pod_ip_still_needs_its_token(cluster, settings):
    settings.ASSAY_METRICS_TOKEN = "s3cret-token"
    assert cluster.get("/metrics", HTTP_HOST=POD).status_code == 401
    ok = cluster.get("/metrics", HTTP_HOST=POD, HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200 and b"assay_queue_jobs" in ok.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/api/v1/projects/", "/metrics/extra", "/healthz/"])
def test_every_other_path_still_validates_the_host(cluster, path):
    assert cluster.get(path, HTTP_HOST=POD).status_code == 400
