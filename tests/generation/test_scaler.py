"""What KEDA counts: queued + running jobs per queue, through a view its read-only role may
read (and nothing else), answered from a partial index."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from assay.audit.models import AuditEvent
from assay.generation.models import GenerationJob
from assay.generation.scaler import VIEW, depth_query
from assay.generation.services import submit_generation

pytestmark = pytest.mark.postgres


def submit(user: Any, project: Any, seed: int) -> GenerationJob:
    return submit_generation(user, project=project, template="blurb",
                             variables={"product": "Kite"}, parameters={"seed": seed})


def count(queue: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(depth_query(queue))
        return int(cursor.fetchone()[0])


@pytest.mark.django_db
def test_the_view_counts_queued_and_running_jobs_per_queue(users, project, template,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        jobs = [submit(users["creator"], project, seed) for seed in range(5)]
    queue = jobs[0].queue
    GenerationJob.objects.filter(pk=jobs[1].pk).update(status="running")
    GenerationJob.objects.filter(pk=jobs[2].pk).update(status="succeeded")
    GenerationJob.objects.filter(pk=jobs[3].pk).update(status="failed")
    GenerationJob.objects.filter(pk=jobs[4].pk).update(queue="gpu.image")
    assert count(queue) == 2  # one queued, one running; finished jobs do not count
    assert count("gpu.image") == 1
    assert count("gpu.video") == 0  # a queue with nothing to do answers 0, not NULL
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT queue, queued, running FROM {VIEW} ORDER BY queue")
        assert cursor.fetchall() == sorted([(queue, 1, 1), ("gpu.image", 1, 0)])


def test_queue_names_cannot_smuggle_sql():
    with pytest.raises(ValueError):
        depth_query("gpu.text' OR '1'='1")


@pytest.mark.django_db
def test_the_count_is_answered_from_the_partial_index(require_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + depth_query("gpu.text"))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "job_active_by_queue" in plan, plan


@pytest.fixture
def scaler_role(require_postgres) -> Any:
    """A login role made as a database administrator would (roles are cluster-wide: a
    unique name, dropped afterwards)."""
    role = f"assay_scaler_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" LOGIN')
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


def as_role(role: str) -> psycopg.Connection:
    """A connection to the test database as ``role`` (the local server trusts loopback)."""
    sd = connection.settings_dict
    return psycopg.connect(host=sd.get("HOST") or "127.0.0.1", port=sd.get("PORT") or 5432,
                           dbname=sd["NAME"], user=role, autocommit=True)


@pytest.mark.django_db(transaction=True)
def test_the_scaler_role_reads_the_counts_and_nothing_else(users, project, template,
                                                           scaler_role):
    job = submit(users["creator"], project, 1)
    call_command("grant_scaler_access", "--role", scaler_role)
    call_command("grant_scaler_access", "--role", scaler_role)  # idempotent
    assert AuditEvent.objects.filter(action="generation.scaler.granted").count() == 2
    with as_role(scaler_role) as conn:
        assert conn.execute(depth_query(job.queue)).fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT rendered_prompt FROM studio_generationjob")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM audit_auditevent")


@pytest.mark.django_db(transaction=True)
def test_granting_refuses_a_missing_or_superuser_role(require_postgres):
    with pytest.raises(CommandError, match="no database role 'nobody_here'"):
        call_command("grant_scaler_access", "--role", "nobody_here")
    with pytest.raises(CommandError, match="is a superuser"):
        call_command("grant_scaler_access", "--role", "postgres")
    assert not AuditEvent.objects.filter(action="generation.scaler.granted").exists()
