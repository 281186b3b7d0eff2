"""A worker told to stop (SIGTERM, as Kubernetes does at scale-down or a rollout) never
loses or doubles a job: it finishes the batch in hand within its grace, or hands the batch
back so another worker starts it at once, without waiting for the lease to lapse.

Real Celery worker processes on PostgreSQL + Redis; the dummy generator is slow on
purpose (``steps`` × ``step_seconds``).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assay.audit.models import AuditEvent
from assay.generation.choices import JobStatus
from assay.generation.drain import DRAIN
from assay.generation.leases import Heartbeat, claim
from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from tests.fixtures.workers import Worker, wait_for

pytestmark = [pytest.mark.timeout(240)]
workers_share_the_database = pytest.mark.django_db(transaction=True)


@pytest.fixture
def drain() -> Iterator[None]:
    """The in-process drain state, reset afterwards (the test process is no worker)."""
    DRAIN.reset()
    yield
    DRAIN.reset()


def submit(user: Any, project: Any, **params: Any) -> GenerationJob:
    return submit_generation(user, project=project, template="blurb",
                             variables={"product": "Kite"}, parameters=params)


def actions(job: GenerationJob) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(job.pk)).order_by("id")
                .values_list("action", flat=True))


def holder(job: GenerationJob, workers: list[Worker]) -> Worker:
    """The worker process whose claim the job carries (claimed_by ends with its pid)."""
    job.refresh_from_db()
    pid = job.claimed_by.rsplit(":", 1)[-1]
    return next(w for w in workers if w.proc is not None and str(w.proc.pid) == pid)


def running(job: GenerationJob) -> Callable[[], bool]:
    def check() -> bool:
        job.refresh_from_db()
        return job.status == JobStatus.RUNNING and job.progress >= 5
    return check


@pytest.mark.worker
@workers_share_the_database
def test_sigterm_past_the_grace_hands_the_job_to_another_worker_at_once(
        users, project, template, require_redis, start_worker):
    """Grace 1 s, lease 120 s, no sweeper: the other worker finishes the job exactly once,
    by claiming a queued job, not by taking over a lapsed lease."""
    env = {"ASSAY_WORKER_DRAIN_SECONDS": 1, "ASSAY_JOB_LEASE_SECONDS": 120}
    workers = [start_worker(beat=False, **env), start_worker(beat=False, **env)]
    job = submit(users["creator"], project, steps=150, step_seconds=0.1, seed=11)
    wait_for(running(job), timeout=90, message="the job to be running")
    stopping = holder(job, workers)
    other = next(w for w in workers if w is not stopping)
    stopping.proc.send_signal(signal.SIGTERM)
    assert stopping.proc.wait(timeout=60) == 0, stopping.log()[-3000:]
    assert "claiming nothing more" in stopping.log()

    done = wait_for(lambda: GenerationJob.objects.filter(pk=job.pk, status__in=(
        "succeeded", "failed", "cancelled")).first(), timeout=90, message="the job to finish")
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert holder(done, workers) is other
    assert done.attempts == 1  # the handed-back run is not held against the job
    assert Asset.objects.filter(job=done).count() == 1
    assert actions(done) == ["studio.generation.submitted", "studio.generation.started",
                             "studio.generation.released", "studio.generation.started",
                             "studio.generation.succeeded"]
    second_start = AuditEvent.objects.filter(target_id=str(job.pk),
                                             action="studio.generation.started").last()
    assert "recovered_from" not in second_start.data  # a fresh claim: no lease lapsed


@pytest.mark.worker
@workers_share_the_database
def test_sigterm_within_the_grace_finishes_the_job_then_exits(users, project, template,
                                                              require_redis, start_worker):
    """Grace 120 s for a 3 s job: the stopping worker finishes it itself, once."""
    worker = start_worker(beat=False, ASSAY_WORKER_DRAIN_SECONDS=120)
    job = submit(users["creator"], project, steps=30, step_seconds=0.1, seed=12)
    wait_for(running(job), timeout=90, message="the job to be running")
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=60) == 0, worker.log()[-3000:]
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 1 and job.progress == 100
    assert Asset.objects.filter(job=job).count() == 1
    assert actions(job) == ["studio.generation.submitted", "studio.generation.started",
                            "studio.generation.succeeded"]


@pytest.mark.django_db
def test_a_stopping_worker_claims_nothing_and_resends_the_message(
        users, project, template, drain, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = submit(users["creator"], project)
    DRAIN.begin(30)
    assert run_job(str(job.pk), worker="stopping:1") is None
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.attempts == 0
    assert job.last_sent_at is not None  # re-sent for another worker
    assert actions(job) == ["studio.generation.submitted"]


@pytest.mark.django_db
def test_the_heartbeat_hands_back_once_the_grace_is_spent(users, project, template, drain,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = submit(users["creator"], project)
        cancelled = submit(users["creator"], project, seed=99)
    held = [claim(str(j.pk), "stopping:1") for j in (job, cancelled)]
    GenerationJob.objects.filter(pk=cancelled.pk).update(cancel_requested=True)
    claims = [(str(j.pk), token) for j, token in held]
    heartbeat = Heartbeat(claims)
    heartbeat.poll(extend=True)
    assert heartbeat.released == set()  # not stopping: leases extended as usual
    DRAIN.begin(0)
    with django_capture_on_commit_callbacks(execute=True) as sent:
        heartbeat.poll(extend=True)
    assert heartbeat.released == {str(job.pk), str(cancelled.pk)}
    assert len(sent) == 1  # the handed-back job is re-sent; the cancelled one is over
    job.refresh_from_db()
    cancelled.refresh_from_db()
    assert (job.status, job.claim_token, job.lease_expires_at, job.attempts) == (
        JobStatus.QUEUED, "", None, 0)
    assert job.last_sent_at is not None
    assert cancelled.status == JobStatus.CANCELLED
    released = AuditEvent.objects.get(target_id=str(job.pk), action="studio.generation.released")
    assert released.data["worker"] == "stopping:1"
    heartbeat.poll(extend=True)  # later ticks do nothing more
    assert AuditEvent.objects.filter(action="studio.generation.released").count() == 1
