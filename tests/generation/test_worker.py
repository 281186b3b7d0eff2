"""End to end with real Celery worker processes: run, cancel, crash, recover.

These use the broker of the test run: Redis when CELERY_BROKER_URL points at it (CI),
else the embedded folder broker. The database is the test database (PostgreSQL in CI).
"""

from __future__ import annotations

import hashlib
import signal

import pytest

from assay.audit.models import AuditEvent
from assay.generation.models import GenerationJob
from assay.generation.services import cancel_job, submit_generation
from assay.studio.models import Asset
from tests.conftest import make_template
from tests.fixtures.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(240), pytest.mark.usefixtures("ci_uses_redis")]


def job_state(job_id):
    return GenerationJob.objects.get(pk=job_id)


def submit(user, project, **params):
    return submit_generation(user, project=project, template="blurb",
                             variables={"product": "Kite"}, parameters=params)


def test_submit_runs_on_a_worker_and_stores_the_asset(users, project, template, start_worker):
    start_worker()
    job = submit(users["creator"], project, steps=3, seed=11)
    done = wait_for(lambda: job_state(job.pk).is_terminal and job_state(job.pk),
                    message="job to finish")
    assert done.status == "succeeded", done.error
    assert done.progress == 100 and done.attempts == 1
    asset = Asset.objects.get(job=done)
    assert asset.sha256 == hashlib.sha256(asset.read_bytes()).hexdigest()
    assert asset.byte_size == len(asset.read_bytes())
    assert "Write about Kite for everyone." in asset.text
    actions = list(AuditEvent.objects.filter(target_id=str(job.pk)).values_list("action",
                                                                               flat=True))
    assert actions == ["studio.generation.submitted", "studio.generation.started",
                       "studio.generation.succeeded"]
    correlation = {e.correlation_id for e in AuditEvent.objects.filter(target_id=str(job.pk))}
    assert correlation == {job.correlation_id}


def test_the_real_text_model_runs_on_a_worker(users, project, demo_models, start_worker):
    make_template(project, users["owner"], slug="copy", generator="text-transformers",
                  text="Introducing {{ product }} for {{ audience }}.")
    start_worker()
    job = submit_generation(users["creator"], project=project, template="copy",
                            variables={"product": "Kite"},
                            parameters={"max_new_tokens": 24, "seed": 5})
    done = wait_for(lambda: job_state(job.pk).is_terminal and job_state(job.pk), timeout=120,
                    message="text job")
    assert done.status == "succeeded", done.error
    asset = Asset.objects.get(job=done)
    assert asset.kind == "text" and len(asset.text.strip()) > 0
    assert asset.sha256 == hashlib.sha256(asset.text.encode()).hexdigest()
    assert done.usage["output_tokens"] > 0 and done.usage["input_tokens"] > 0
    assert done.model_ref["revision"]  # the local folder is pinned by a content hash


def test_cancel_a_queued_and_a_running_job(users, project, template, start_worker):
    queued = submit(users["creator"], project)
    cancel_job(users["creator"], queued)
    assert job_state(queued.pk).status == "cancelled"

    start_worker()
    running = submit(users["creator"], project, steps=200, step_seconds=0.05)
    wait_for(lambda: job_state(running.pk).progress > 5, message="progress")
    cancel_job(users["creator"], job_state(running.pk))
    done = wait_for(lambda: job_state(running.pk).is_terminal and job_state(running.pk),
                    message="cancellation")
    assert done.status == "cancelled"
    assert done.progress < 100
    assert not Asset.objects.filter(job=done).exists()
    # The queued one never ran, even with a worker up.
    assert job_state(queued.pk).status == "cancelled" and job_state(queued.pk).attempts == 0


def test_a_killed_worker_job_completes_exactly_once(users, project, template, start_worker):
    worker = start_worker()
    job = submit(users["creator"], project, steps=40, step_seconds=0.1, seed=3)
    wait_for(lambda: job_state(job.pk).progress >= 10, message="the job to be mid-way")
    worker.kill(signal.SIGKILL)
    assert job_state(job.pk).status == "running"  # orphaned until its lease runs out
    start_worker()
    done = wait_for(lambda: job_state(job.pk).is_terminal and job_state(job.pk), timeout=90,
                    message="recovery")
    assert done.status == "succeeded", done.error
    assert done.attempts == 2
    assert Asset.objects.filter(job=done).count() == 1
    starts = AuditEvent.objects.filter(target_id=str(job.pk), action="studio.generation.started")
    assert starts.count() == 2 and "recovered_from" in starts.last().data
    assert AuditEvent.objects.filter(target_id=str(job.pk),
                                     action="studio.generation.requeued").exists()


def test_a_job_that_keeps_killing_its_worker_fails_after_the_attempt_cap(
        users, project, template, start_worker):
    job = submit(users["creator"], project, steps=4, step_seconds=0.1, die=True)
    workers = [start_worker(ASSAY_JOB_MAX_ATTEMPTS=2)]

    def finished_or_restart():
        state = job_state(job.pk)
        if state.is_terminal:
            return state
        if workers[-1].proc.poll() is not None:
            workers.append(start_worker(ASSAY_JOB_MAX_ATTEMPTS=2))
        return None

    done = wait_for(finished_or_restart, timeout=150, interval=0.5, message="the attempt cap")
    assert done.status == "failed"
    assert done.attempts == 2
    assert "stopped 2 times" in done.error and "given up" in done.error
    assert not Asset.objects.filter(job=done).exists()


def test_a_failing_generator_reports_its_error(users, project, template, start_worker):
    start_worker()
    job = submit(users["creator"], project, fail=True)
    done = wait_for(lambda: job_state(job.pk).is_terminal and job_state(job.pk),
                    message="failure")
    assert done.status == "failed"
    assert done.error == "RuntimeError: the dummy generator was asked to fail"
    assert AuditEvent.objects.filter(target_id=str(job.pk),
                                     action="studio.generation.failed").exists()
