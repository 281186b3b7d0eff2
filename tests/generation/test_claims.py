"""Claims, duplicate deliveries, the attempt cap and the sweeper, in one process."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from assay.audit.models import AuditEvent
from assay.generation import sweeper
from assay.generation.leases import claim
from assay.generation.models import GenerationJob
from assay.generation.runtime import model_cache, run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(users, project, template, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return submit_generation(users["creator"], project=project, template="blurb",
                                 variables={"product": "Kite"}, parameters={"seed": 1})


def test_a_second_delivery_is_a_no_op(job):
    assert run_job(str(job.pk), worker="w1") == "succeeded"
    assert run_job(str(job.pk), worker="w2") is None
    assert Asset.objects.filter(job=job).count() == 1
    assert AuditEvent.objects.filter(action="studio.generation.started").count() == 1


def test_a_live_claim_is_not_taken_over(job):
    assert claim(str(job.pk), "w1") is not None
    assert claim(str(job.pk), "w2") is None  # lease still valid
    GenerationJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1))
    taken = claim(str(job.pk), "w2")
    assert taken is not None and taken[0].attempts == 2


def test_the_attempt_cap_fails_an_orphaned_job(job, settings):
    settings.ASSAY_JOB_MAX_ATTEMPTS = 1
    assert claim(str(job.pk), "w1") is not None
    GenerationJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert claim(str(job.pk), "w2") is None
    job.refresh_from_db()
    assert job.status == "failed" and "given up after 1 attempts" in job.error


def test_a_cancelled_orphan_ends_cancelled(job):
    assert claim(str(job.pk), "w1") is not None
    GenerationJob.objects.filter(pk=job.pk).update(
        cancel_requested=True, lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert claim(str(job.pk), "w2") is None
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_a_worker_that_lost_its_claim_stores_nothing(job):
    from assay.generation.runtime import execute

    job_obj, token = claim(str(job.pk), "w1")
    # Another delivery took the job over meanwhile (as after a lapsed lease).
    GenerationJob.objects.filter(pk=job.pk).update(claim_token="someone-else")
    execute([(job_obj, token)])
    job.refresh_from_db()
    assert job.status == "running" and not Asset.objects.filter(job=job).exists()


def test_the_cache_keeps_a_warm_model(users, project, template,
                                      django_capture_on_commit_callbacks):
    from assay_dummy.generator import DummyTextGenerator

    model_cache().clear()
    before = DummyTextGenerator.loads
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=False):
            j = submit_generation(users["creator"], project=project, template="blurb",
                                  variables={"product": "Kite"})
        run_job(str(j.pk), worker="w")
    assert DummyTextGenerator.loads - before == 1
    assert model_cache().stats.hits >= 2


def test_the_sweeper_resends_stale_and_orphaned_jobs_only(job, users, project, settings,
                                                          django_capture_on_commit_callbacks):
    settings.ASSAY_SWEEP_STALE_SECONDS = 60
    with django_capture_on_commit_callbacks(execute=False):
        fresh = submit_generation(users["creator"], project=project, template="blurb",
                                  variables={"product": "New"})
    old = timezone.now() - timedelta(seconds=120)
    GenerationJob.objects.filter(pk=job.pk).update(queued_at=old)  # never sent: broker down
    with django_capture_on_commit_callbacks(execute=False):
        orphan = submit_generation(users["creator"], project=project, template="blurb",
                                   variables={"product": "Orphan"})
    claim(str(orphan.pk), "dead-worker")
    GenerationJob.objects.filter(pk=orphan.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=5), last_sent_at=old)
    with mock.patch("assay.celery.app.send_task") as send:
        sent = sweeper.sweep()
    assert set(sent) == {str(job.pk), str(orphan.pk)}
    assert str(fresh.pk) not in sent
    assert {c.kwargs["queue"] for c in send.call_args_list} == {"cpu"}
    assert AuditEvent.objects.filter(action="studio.generation.requeued").count() == 2


def test_a_lapsed_lease_is_resent_on_the_next_sweep_then_once_per_lease(
        job, settings, django_capture_on_commit_callbacks):
    """Sent 30 s ago, lease lapsed 5 s ago: re-sent now, not a stale period (120 s) after the
    last send; a second sweep right after sends nothing more."""
    settings.ASSAY_SWEEP_STALE_SECONDS, settings.ASSAY_JOB_LEASE_SECONDS = 120, 60
    claim(str(job.pk), "dead-worker")
    now = timezone.now()
    GenerationJob.objects.filter(pk=job.pk).update(
        lease_expires_at=now - timedelta(seconds=5), last_sent_at=now - timedelta(seconds=30))
    with mock.patch("assay.celery.app.send_task"):
        assert sweeper.sweep() == [str(job.pk)]
        assert sweeper.sweep() == []  # sent after the lapse: wait a lease before again
    long_ago = now - timedelta(seconds=100)
    GenerationJob.objects.filter(pk=job.pk).update(lease_expires_at=long_ago,
                                                   last_sent_at=now - timedelta(seconds=30))
    with mock.patch("assay.celery.app.send_task"):
        assert sweeper.sweep() == []  # re-sent after the lapse, less than a lease ago
    GenerationJob.objects.filter(pk=job.pk).update(last_sent_at=now - timedelta(seconds=61))
    with mock.patch("assay.celery.app.send_task"):
        assert sweeper.sweep() == [str(job.pk)]  # nobody took it for a whole lease: again


def test_a_failed_publish_leaves_the_job_queued_for_the_sweeper(job):
    from assay.generation.dispatch import send_job

    with mock.patch("assay.celery.app.send_task", side_effect=ConnectionError("down")):
        assert send_job(job.pk) is False
    job.refresh_from_db()
    assert job.status == "queued" and job.last_sent_at is None
