"""Every status move: the allowed ones happen, all others are refused."""

from __future__ import annotations

import itertools

import pytest

from assay.core.exceptions import InvalidTransition
from assay.generation.choices import JOB_TRANSITIONS, JobStatus
from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from assay.generation.transitions import transition

ALLOWED = {
    ("queued", "running"), ("queued", "cancelled"),
    ("running", "running"), ("running", "succeeded"), ("running", "failed"),
    ("running", "cancelled"), ("running", "queued"),
}


def test_the_table_is_exactly_the_documented_machine():
    table = {(a, b) for a, targets in JOB_TRANSITIONS.items() for b in targets}
    assert table == ALLOWED


@pytest.mark.django_db
@pytest.mark.parametrize("source,target", list(itertools.product(JobStatus.values, repeat=2)))
def test_every_transition(source, target, project, users, template,
                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=project, template="blurb",
                                variables={"product": "Kite"})
    GenerationJob.objects.filter(pk=job.pk).update(status=source)
    job.refresh_from_db()
    if (source, target) in ALLOWED:
        assert transition(job, target) is True
        job.refresh_from_db()
        assert job.status == target
    else:
        with pytest.raises(InvalidTransition):
            transition(job, target)
        job.refresh_from_db()
        assert job.status == source


@pytest.mark.django_db
def test_a_stale_view_loses_the_race(project, users, template, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=project, template="blurb",
                                variables={"product": "Kite"})
    other = GenerationJob.objects.get(pk=job.pk)
    assert transition(job, "running") is True
    # `other` still believes the job is queued: its compare-and-set matches no row.
    assert transition(other, "cancelled") is False
    job.refresh_from_db()
    assert job.status == "running"
