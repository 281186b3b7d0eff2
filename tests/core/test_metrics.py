"""``GET /metrics``: database-read gauges in the Prometheus text format, behind a token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from assay.audit.chain import seal
from assay.audit.checkpoints import write_checkpoint
from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from governance.review.models import Review
from tests.conftest import generate_checked

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[str, dict[tuple, float]]:
    """name → {sorted label items → value} of every sample."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == CONTENT_TYPE_LATEST
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = (
                sample.value)
    return samples


def submit(users, project, n: int) -> list[GenerationJob]:
    return [submit_generation(users["creator"], project=project, template="blurb",
                              variables={"product": f"Kite {i}"}) for i in range(n)]


def test_queued_and_running_jobs_per_queue(client, users, project, template,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        jobs = submit(users, project, 6)
    GenerationJob.objects.filter(pk__in=[j.pk for j in jobs[:2]]).update(status="running")
    GenerationJob.objects.filter(pk__in=[j.pk for j in jobs[2:3]]).update(queue="gpu.text")
    GenerationJob.objects.filter(pk__in=[j.pk for j in jobs[3:4]]).update(status="succeeded")
    GenerationJob.objects.filter(pk=jobs[4].pk).update(
        queued_at=timezone.now() - timedelta(minutes=10))
    samples = scrape(client)
    assert samples["assay_queue_jobs"] == {
        (("queue", "cpu"), ("state", "queued")): 2.0,
        (("queue", "cpu"), ("state", "running")): 2.0,
        (("queue", "gpu.text"), ("state", "queued")): 1.0,
        (("queue", "gpu.text"), ("state", "running")): 0.0,
    }
    ages = samples["assay_queue_oldest_age_seconds"]
    assert ages[(("queue", "cpu"),)] >= 600
    assert 0 <= ages[(("queue", "gpu.text"),)] < 600


def test_review_backlog_and_overdue(client, users, project, template,
                                    django_capture_on_commit_callbacks):
    first = generate_checked(users["creator"], project, django_capture_on_commit_callbacks)
    generate_checked(users["creator"], project, django_capture_on_commit_callbacks, "Kayak")
    assert Review.objects.filter(status="in_review").count() == 2
    Review.objects.filter(asset=first).update(
        stage_started_at=timezone.now() - timedelta(hours=100))  # past the default 48 h
    samples = scrape(client)
    assert samples["assay_reviews_awaiting"] == {(("stage", "review"),): 2.0}
    assert samples["assay_reviews_overdue"] == {(("stage", "review"),): 1.0}


def test_audit_chain_ages(client, users, project, template, settings, tmp_path,
                          django_capture_on_commit_callbacks):
    settings.ASSAY_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    with django_capture_on_commit_callbacks(execute=False):
        submit(users, project, 1)  # leaves events unsealed
    samples = scrape(client)
    assert samples["assay_audit_unsealed_oldest_age_seconds"][()] >= 0
    seal(wait=True)
    assert write_checkpoint() is not None
    samples = scrape(client)
    assert samples["assay_audit_head_age_seconds"][()] >= 0
    assert samples["assay_audit_checkpoint_age_seconds"][()] >= 0
    assert samples["assay_audit_unsealed_oldest_age_seconds"][()] == 0


def test_an_empty_database_has_families_without_samples(client, db):
    samples = scrape(client)
    assert "assay_queue_jobs" not in samples and "assay_audit_head_age_seconds" not in samples
    assert samples["assay_audit_unsealed_oldest_age_seconds"][()] == 0


def test_a_scrape_costs_a_handful_of_queries(client, users, project, template,
                                             django_capture_on_commit_callbacks,
                                             django_assert_max_num_queries):
    generate_checked(users["creator"], project, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        submit(users, project, 5)
    with django_assert_max_num_queries(5):
        scrape(client)


def test_the_token_is_required_when_set(client, settings, db):
    settings.ASSAY_METRICS_TOKEN = "s3cret-token"
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"},
                    {"HTTP_AUTHORIZATION": "Basic s3cret-token"}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401
        assert response["Content-Type"].startswith("text/plain")
        assert b"assay_" not in response.content
    assert scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-token") is not None


def test_only_get_and_head(client, db):
    assert client.post("/metrics").status_code == 405
    assert client.put("/metrics").status_code == 405
    assert client.head("/metrics").status_code == 200


def test_plain_http_is_not_redirected(client, settings, db):
    """Prometheus scrapes over plain HTTP inside the cluster, as the probes do."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/").status_code == 301
