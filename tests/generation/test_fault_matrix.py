"""Each fault of the fault matrix once, with real workers on PostgreSQL + Redis: every job
completes exactly once. bench/faults.py runs the same scenarios (tests/fixtures/faults.py)
with the full counts and prints the table."""

from __future__ import annotations

import pytest

from assay.audit.models import AuditEvent
from assay.audit.verify import verify
from assay.generation.models import GenerationJob
from tests.fixtures.faults import (
    World,
    broker_down_mid_job,
    burst_with_kills,
    check_jobs,
    sigkill_mid_job,
    sigterm_mid_job,
)

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


@pytest.fixture(autouse=True)
def services(require_postgres: None, require_redis: str) -> None:
    """Real row locks (batching claims with SKIP LOCKED) and a real broker."""


@pytest.fixture
def world(users, project, template) -> World:
    return World(users["creator"], users["reviewer"], project)


def events(job_id) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(job_id)).order_by("id")
                .values_list("action", flat=True))


def only_job() -> GenerationJob:
    return GenerationJob.objects.get()


def test_sigkill_mid_job_completes_once_on_the_other_worker(world, start_fleet):
    fleet = start_fleet()
    outcome = sigkill_mid_job(world, fleet)
    assert outcome.clean, outcome.problems
    job = only_job()
    assert job.attempts == 2
    assert events(job.pk)[:3] == ["studio.generation.submitted", "studio.generation.started",
                                  "studio.generation.requeued"]
    assert events(job.pk)[-1] == "studio.generation.succeeded"
    assert 0 < outcome.recoveries[0] < 60


def test_sigterm_lets_the_running_job_finish_once_then_the_worker_exits(world, start_fleet):
    fleet = start_fleet()
    outcome = sigterm_mid_job(world, fleet)
    assert outcome.clean, outcome.problems
    job = only_job()
    assert job.attempts == 1
    assert events(job.pk) == ["studio.generation.submitted", "studio.generation.started",
                              "studio.generation.succeeded"]
    assert "Warm shutdown" in "".join(w.log() for w in fleet.retired)


def test_broker_down_mid_job_finishes_once_and_the_sweepers_queue_checks_and_signing(
        world, private_redis, start_fleet):
    fleet = start_fleet(broker_url=private_redis.url)
    outcome = broker_down_mid_job(world, fleet, private_redis)
    assert outcome.clean, outcome.problems
    job = only_job()
    asset = job.assets.get()
    assert job.attempts == 1
    asset_events = events(asset.pk)
    assert asset_events.count("review.checks.completed") == 1
    assert asset_events.count("review.asset.approved") == 1
    assert asset_events.count("provenance.asset.signed") == 1
    # The checks waited for the broker (the review sweeper sent them), and so did the
    # signing (the provenance sweeper signed).
    assert fleet.count("could not send review.run_checks") == 1
    assert "checks_requeued': 1" in fleet.logs(tail=None)
    assert asset.signatures.count() == 1


def test_a_burst_with_a_worker_killed_mid_batch_completes_every_job_once(world, start_fleet):
    fleet = start_fleet()
    outcome = burst_with_kills(world, fleet, jobs=10, kills=1, steps=20, step_seconds=0.1)
    assert outcome.clean, outcome.problems
    assert outcome.once == outcome.expected == 10
    attempts = sorted(GenerationJob.objects.values_list("attempts", flat=True))
    assert attempts[-1] == 2 and attempts[0] == 1  # the killed batch ran again, the rest once
    assert check_jobs([j.pk for j in GenerationJob.objects.all()]).once == 10
    assert verify().ok  # the events of killed workers are sealed into an intact chain
