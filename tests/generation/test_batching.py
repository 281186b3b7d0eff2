"""Cross-user batching on PostgreSQL: one model call, each output on its own job."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from assay.generation.services import cancel_job, submit_generation
from assay.studio.models import Asset
from tests.conftest import make_user
from tests.fixtures.workers import wait_for

pytestmark = [pytest.mark.postgres]


def queue_jobs(users, project, products, capture, **params):
    jobs = []
    for product in products:
        with capture(execute=False):
            jobs.append(submit_generation(users["creator"], project=project, template="blurb",
                                          variables={"product": product}, parameters=params))
    return jobs


@pytest.mark.django_db
def test_one_delivery_runs_compatible_jobs_of_several_users_as_one_batch(
        require_postgres, users, project, template, settings, django_capture_on_commit_callbacks):
    settings.ASSAY_BATCH_WINDOW_MS = 0
    from assay.accounts.choices import ProjectRole
    from assay.studio.services.projects import grant_role

    second = make_user("sam")
    grant_role(project, second, ProjectRole.CREATOR)
    jobs = queue_jobs(users, project, ["Kite", "Lamp", "Mug"], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        jobs.append(submit_generation(second, project=project, template="blurb",
                                      variables={"product": "Oar"}))
    assert run_job(str(jobs[0].pk), worker="w") == "succeeded"
    for job, product in zip(jobs, ["Kite", "Lamp", "Mug", "Oar"], strict=True):
        job.refresh_from_db()
        assert job.status == "succeeded"
        assert job.usage["batch_size"] == 4
        assert Asset.objects.get(job=job).text.endswith(f"Write about {product} for everyone.")
    # The other jobs' own deliveries arrive later and do nothing.
    assert all(run_job(str(j.pk), worker="w2") is None for j in jobs[1:])


@pytest.mark.django_db
def test_incompatible_jobs_are_not_batched(require_postgres, users, project, template, settings,
                                           django_capture_on_commit_callbacks):

    settings.ASSAY_BATCH_WINDOW_MS = 0
    a = queue_jobs(users, project, ["Kite"], django_capture_on_commit_callbacks)[0]
    other_model = queue_jobs(users, project, ["Lamp"], django_capture_on_commit_callbacks)[0]
    GenerationJob.objects.filter(pk=other_model.pk).update(batch_key="something-else")
    run_job(str(a.pk), worker="w")
    other_model.refresh_from_db()
    assert other_model.status == "queued"


@pytest.mark.django_db(transaction=True)
def test_a_job_cancelled_inside_a_running_batch_ends_cancelled_and_the_others_succeed(
        require_postgres, users, project, template, settings):
    settings.ASSAY_BATCH_WINDOW_MS = 0
    jobs = []
    for product in ["Kite", "Lamp", "Mug"]:
        jobs.append(submit_generation(users["creator"], project=project, template="blurb",
                                      variables={"product": product},
                                      parameters={"steps": 80, "step_seconds": 0.05}))
    def run_first() -> None:
        try:
            run_job(str(jobs[0].pk), worker="w")
        finally:
            connection.close()  # this thread's own connection

    runner = threading.Thread(target=run_first)
    runner.start()
    try:
        wait_for(lambda: GenerationJob.objects.get(pk=jobs[1].pk).progress > 5,
                 message="the batch to be running")
        cancel_job(users["creator"], GenerationJob.objects.get(pk=jobs[1].pk))
    finally:
        runner.join(timeout=60)
    states = {j.pk: GenerationJob.objects.get(pk=j.pk) for j in jobs}
    assert states[jobs[1].pk].status == "cancelled"
    assert states[jobs[0].pk].status == "succeeded" and states[jobs[2].pk].status == "succeeded"
    assert not Asset.objects.filter(job_id=jobs[1].pk).exists()
    assert Asset.objects.filter(job_id__in=[jobs[0].pk, jobs[2].pk]).count() == 2
