"""Faults a job must survive, or end in words: a dropped database connection, a storage
that refuses the output, concurrent cancels. Real workers on PostgreSQL + Redis where
the fault lives between processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from assay.generation import services as job_services
from assay.generation.leases import HEARTBEAT_APPLICATION_NAME, Heartbeat, claim
from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from tests.conftest import race
from tests.fixtures.workers import Worker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(240)]


@pytest.fixture(autouse=True)
def postgres_only(require_postgres: None) -> None:
    """pg_terminate_backend and real row locks: these faults exist on PostgreSQL."""


def submit(user: Any, project: Any, **params: Any) -> GenerationJob:
    return submit_generation(user, project=project, template="blurb",
                             variables={"product": "Kite"}, parameters=params)


def job_state(job_id: Any) -> GenerationJob:
    return GenerationJob.objects.get(pk=job_id)


def actions(job: GenerationJob) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(job.pk)).order_by("id")
                .values_list("action", flat=True))


def heartbeat_backends() -> set[int]:
    """Server process ids of the heartbeat connections on this test's database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND application_name = %s", [HEARTBEAT_APPLICATION_NAME])
        return {row[0] for row in cursor.fetchall()}


def terminate(pids: set[int] | None = None) -> int:
    """Have the server drop connections: ``pids``, or every one on this database but ours."""
    with connection.cursor() as cursor:
        if pids is None:
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        else:
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE pid = ANY(%s)", [list(pids)])
        return cursor.fetchone()[0]


# --- the heartbeat keeps the lease through a dropped connection -------------------------


def test_the_heartbeat_reconnects_and_keeps_extending_the_lease(users, project, template,
                                                                settings, monkeypatch):
    """In-process: the server drops the heartbeat's connection; the thread lives on,
    opens a new one and extends the lease from it."""
    monkeypatch.setattr(job_services, "send_job", lambda job_id: True)  # no broker here
    settings.ASSAY_JOB_LEASE_SECONDS = 3  # extended every second
    job = submit(users["creator"], project)
    job, token = claim(str(job.pk), "test:1")
    with Heartbeat([(str(job.pk), token)], interval=0.1) as heartbeat:
        first = wait_for(heartbeat_backends, timeout=10, message="the heartbeat to connect")
        assert terminate(first) == 1
        second = wait_for(lambda: heartbeat_backends() - first, timeout=10,
                          message="the heartbeat to reconnect")
        dropped_at = timezone.now()
        wait_for(lambda: job_state(job.pk).lease_expires_at > dropped_at + timedelta(seconds=2.5),
                 timeout=5, message="the lease to be extended after the reconnect")
        assert terminate(second) == 1  # and again: every drop is survived, not only the first
        wait_for(lambda: heartbeat_backends() - first - second, timeout=10,
                 message="the second reconnect")
        assert heartbeat.reconnects >= 2
    assert not heartbeat._thread.is_alive()
    assert heartbeat_backends() == set()  # its connection is released on exit


def run_through_a_dropped_connection(users: dict[str, Any], project: Any,
                                     start_worker: Callable[..., Worker],
                                     drop: Callable[[], int], **env: Any) -> GenerationJob:
    """A 10 s job on one of two workers; ``drop`` cuts connections while it runs, and the
    lease (3 s) is watched: it must never lapse, or the idle worker would take over."""
    workers = [start_worker(**env), start_worker(beat=False, **env)]
    job = submit(users["creator"], project, steps=100, step_seconds=0.1, seed=5)
    wait_for(lambda: job_state(job.pk).progress >= 5 and heartbeat_backends(), timeout=90,
             message="the job to be running with a heartbeat")
    assert drop() >= 1
    lapsed: list[str] = []

    def finished() -> GenerationJob | None:
        state = job_state(job.pk)
        if state.status == "running" and state.lease_expires_at < timezone.now():
            lapsed.append(f"{state.lease_expires_at} at {timezone.now()}")
        return state if state.is_terminal else None

    done = wait_for(finished, timeout=90, interval=0.1, message="the job to finish")
    assert lapsed == [], "the lease lapsed while the job ran"
    assert done.status == "succeeded", done.error
    assert done.attempts == 1 and done.progress == 100
    assert Asset.objects.filter(job=done).count() == 1
    assert actions(done) == ["studio.generation.submitted", "studio.generation.started",
                             "studio.generation.succeeded"]
    assert "reconnecting" in "".join(w.log() for w in workers)
    return done


@pytest.mark.worker
def test_a_dropped_heartbeat_connection_does_not_lose_the_job(users, project, template,
                                                              require_redis, start_worker):
    """The server terminates the heartbeat's backend mid-job (twice)."""

    def drop_heartbeat() -> int:
        first = heartbeat_backends()
        count = terminate(first)
        wait_for(lambda: heartbeat_backends() - first, timeout=10,
                 message="the heartbeat to reconnect")
        return count + terminate(heartbeat_backends())

    run_through_a_dropped_connection(users, project, start_worker, drop_heartbeat)


@pytest.mark.worker
def test_every_worker_connection_dropped_mid_job_still_finishes_once(
        users, project, template, require_redis, start_worker):
    """The task's own idle connection goes too (a server restart, a proxy's idle cut):
    the worker reconnects to store the output instead of failing the finish. With the
    connection pool on, as production runs it (the pool's idle connections go as well)."""
    run_through_a_dropped_connection(users, project, start_worker, terminate,
                                     ASSAY_DB_POOL_MAX_SIZE=4, ASSAY_DB_POOL_MIN_SIZE=2)


# --- an error the job raises fails it at once, in words ----------------------------------


@pytest.mark.worker
def test_a_storage_that_refuses_the_output_fails_the_job_once_in_words(
        users, project, template, require_redis, start_worker, tmp_path: Path):
    not_a_folder = tmp_path / "media-is-a-file"
    not_a_folder.write_text("a file where the media folder should be")
    workers = [start_worker(MEDIA_ROOT=not_a_folder)]
    job = submit(users["creator"], project, as_file=True, seed=2)
    done = wait_for(lambda: job_state(job.pk).is_terminal and job_state(job.pk), timeout=60,
                    message="the job to end")
    time.sleep(4)  # over a lease: a job left to its lease would be re-sent and started again
    done.refresh_from_db()
    assert done.status == "failed"
    assert done.error == "Could not store the output: Not a directory."
    assert str(not_a_folder) not in done.error  # no server path in the job's JSON
    assert done.attempts == 1
    assert not Asset.objects.filter(job=done).exists()
    assert actions(done) == ["studio.generation.submitted", "studio.generation.started",
                             "studio.generation.failed"]
    event = AuditEvent.objects.get(target_id=str(job.pk), action="studio.generation.failed")
    assert event.data["error"] == done.error
    assert "may need more memory" not in done.error
    assert "could not store its output" in workers[0].log()


@pytest.mark.worker
def test_an_output_the_database_refuses_fails_the_job_once_in_words(
        users, project, template, require_redis, start_worker):
    """A generator that emits a NUL byte: PostgreSQL refuses the text (a DataError, not a
    lost connection), and running it again would be refused again."""
    start_worker()
    job = submit(users["creator"], project, nul=True, seed=4)
    done = wait_for(lambda: job_state(job.pk).is_terminal and job_state(job.pk), timeout=60,
                    message="the job to end")
    time.sleep(4)
    done.refresh_from_db()
    assert done.status == "failed" and done.attempts == 1
    assert done.error.startswith("Could not finish the job: DataError: "), done.error
    assert "NUL" in done.error
    assert not Asset.objects.filter(job=done).exists()
    assert actions(done) == ["studio.generation.submitted", "studio.generation.started",
                             "studio.generation.failed"]


# --- concurrent cancels ------------------------------------------------------------------


def cancel_over_rest(user: Any, job: GenerationJob) -> Callable[[], int]:
    def call() -> int:
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(f"/api/v1/generations/{job.pk}/cancel/", {}, format="json")
        assert response["Content-Type"].startswith("application/json")
        return response.status_code
    return call


def test_concurrent_cancels_of_a_queued_job_write_one_event(users, project, template,
                                                            monkeypatch):
    monkeypatch.setattr(job_services, "send_job", lambda job_id: True)
    job = submit(users["creator"], project)
    outcomes = race(8, cancel_over_rest(users["creator"], job))
    assert sorted(outcomes) == [200] + [409] * 7  # the losers: "already cancelled"
    assert job_state(job.pk).status == "cancelled"
    assert actions(job) == ["studio.generation.submitted", "studio.generation.cancelled"]


def test_concurrent_cancels_of_a_running_job_write_one_event(users, project, template,
                                                             monkeypatch):
    monkeypatch.setattr(job_services, "send_job", lambda job_id: True)
    job = submit(users["creator"], project)
    assert claim(str(job.pk), "test:1") is not None
    outcomes = race(8, cancel_over_rest(users["creator"], job))
    assert outcomes == [200] * 8  # each is told the job will stop
    state = job_state(job.pk)
    assert state.status == "running" and state.cancel_requested
    assert actions(job) == ["studio.generation.submitted", "studio.generation.started",
                            "studio.generation.cancel_requested"]


def test_a_generated_text_past_the_text_limit_fails_in_words(users, template, settings,
                                                              django_capture_on_commit_callbacks):
    """Generated text has the same limit as a hand-made revision (ASSAY_MAX_TEXT_CHARS)."""
    settings.ASSAY_MAX_TEXT_CHARS = 10
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=template.project, template="blurb",
                                variables={"product": "a kettle with a long name"})
        assert run_job(str(job.pk), worker="w") == "failed"
    job.refresh_from_db()
    assert job.error.startswith("Could not store the output: the text is ")
    assert "at most 10 can be kept" in job.error and job.attempts == 1
    assert not Asset.objects.filter(job=job).exists()
