"""submit_generation as a form needs it: another generator than the version's, every field
error in one refusal, a starting image only for image generators, quota refusals."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from assay.core.exceptions import InvalidInput, QuotaExceeded
from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from assay.generation.storage import store_outputs
from assay.plugins.contracts import GeneratedOutput
from governance.usage.services import set_quota
from tests.conftest import make_template

pytestmark = pytest.mark.django_db


def _submit(user, project, capture, **kwargs):
    kwargs.setdefault("variables", {"product": "Kite"})
    with capture(execute=False):
        return submit_generation(user, project=project, template="blurb", **kwargs)


def _image_asset(project, user, capture):
    """A stored image asset of ``project`` (its generator's model is never loaded)."""
    make_template(project, user, slug="shot", generator="image-diffusers",
                  text="a photo of {{ product }}")
    with capture(execute=False):
        job = submit_generation(user, project=project, template="shot",
                                variables={"product": "Kite"})
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    [asset] = store_outputs(job, [GeneratedOutput(kind="image", media_type="image/png",
                                                  data=png, width=64, height=64)])
    return asset


def test_another_generator_starts_from_its_own_defaults_not_the_versions(
        users, project, django_capture_on_commit_callbacks):
    # given a version written for dummy-echo, with dummy-echo's settings as its defaults
    make_template(project, users["owner"], steps=20, step_seconds=0.05)
    # when it is run with another text generator
    job = _submit(users["creator"], project, django_capture_on_commit_callbacks,
                  generator="text-transformers", parameters={"max_new_tokens": 12})
    # then that generator gets only what was asked for, plus its own defaults
    assert job.generator_id == "text-transformers"
    assert "steps" not in job.parameters and "step_seconds" not in job.parameters
    assert job.parameters["max_new_tokens"] == 12
    # and the version's own generator still gets the version's defaults
    own = _submit(users["creator"], project, django_capture_on_commit_callbacks)
    assert own.parameters["steps"] == 20 and own.parameters["step_seconds"] == 0.05


def test_rest_switches_generator_too(users, project, django_capture_on_commit_callbacks):
    make_template(project, users["owner"], steps=20)
    client = APIClient()
    client.force_authenticate(users["creator"])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/v1/generations/", {
            "project": "launch", "template": "blurb", "variables": {"product": "Kite"},
            "generator": "text-transformers"}, format="json")
    assert response.status_code == 201, response.json()
    assert GenerationJob.objects.get().generator_id == "text-transformers"


def test_every_field_error_comes_in_one_refusal(users, project, template,
                                                django_capture_on_commit_callbacks):
    with pytest.raises(InvalidInput) as caught:
        _submit(users["creator"], project, django_capture_on_commit_callbacks,
                variables={"product": ""}, parameters={"steps": 100000, "step_seconds": 99})
    errors = caught.value.errors
    assert errors["product"] == ["is required"]
    assert errors["parameters.steps"] == ["must be at most 1000 (got 100000)"]
    assert errors["parameters.step_seconds"] == ["must be at most 5 (got 99)"]
    assert "Parameters out of bounds" in caught.value.message
    assert "Fix the prompt variables" in caught.value.message
    assert not GenerationJob.objects.exists()


def test_rest_reports_every_field_error_at_once(users, project, template):
    client = APIClient()
    client.force_authenticate(users["creator"])
    response = client.post("/api/v1/generations/", {
        "project": "launch", "template": "blurb", "variables": {},
        "parameters": {"steps": 0}}, format="json")
    assert response.status_code == 400
    assert {"product", "parameters.steps"} <= set(response.json()["errors"])


def test_a_text_generator_refuses_a_starting_image_with_the_other_errors(
        users, project, template, django_capture_on_commit_callbacks):
    image = _image_asset(project, users["owner"], django_capture_on_commit_callbacks)
    with pytest.raises(InvalidInput) as caught:
        _submit(users["creator"], project, django_capture_on_commit_callbacks,
                variables={}, parent_asset=str(image.pk))
    assert caught.value.errors["parent_asset"] == [
        "this generator cannot start from an existing asset"]
    assert caught.value.errors["product"] == ["is required"]


def test_an_image_generator_takes_the_starting_image(users, project,
                                                     django_capture_on_commit_callbacks):
    image = _image_asset(project, users["owner"], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=project, template="shot",
                                variables={"product": "Kite"}, parent_asset=str(image.pk))
    assert job.parent_asset_id == image.pk


def test_a_used_up_quota_is_refused_with_its_facts(users, project, template,
                                                   django_capture_on_commit_callbacks):
    set_quota(None, "project", project, "jobs", 1)
    _submit(users["creator"], project, django_capture_on_commit_callbacks)
    with pytest.raises(QuotaExceeded) as caught:
        _submit(users["creator"], project, django_capture_on_commit_callbacks)
    quota = caught.value.quota
    assert quota["scope"] == "project" and quota["metric"] == "jobs"
    assert quota["limit"] == 1 and quota["reserved"] == 1 and quota["resets_at"]
    assert GenerationJob.objects.count() == 1
