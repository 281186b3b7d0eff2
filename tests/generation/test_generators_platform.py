"""The real generators through the platform: bounds, determinism in batches, img2img."""

from __future__ import annotations

import hashlib

import pytest

from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from tests.conftest import make_template
from tests.fixtures.generation import assert_refused_out_of_bounds, post_generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def copy_template(project, users, demo_models):
    return make_template(project, users["owner"], slug="copy", generator="text-transformers",
                         text="Introducing {{ product }} for {{ audience }}.")


@pytest.fixture
def shot_template(project, users, demo_models):
    return make_template(project, users["owner"], slug="shot", generator="image-diffusers",
                         text="a photo of {{ product }} for {{ audience }}")


@pytest.mark.parametrize("template_slug,params,field,words", [
    ("shot", {"width": 100000, "height": 100000}, "parameters.width", "at most 1024"),
    ("shot", {"steps": 10000}, "parameters.steps", "at most 100"),
    ("shot", {"width": 100}, "width", "multiple of 8"),
    ("copy", {"max_new_tokens": 1000000}, "parameters.max_new_tokens", "at most 1024"),
    ("copy", {"temperature": -1}, "parameters.temperature", "at least 0"),
])
def test_out_of_bounds_parameters_are_a_clear_400_and_nothing_is_queued(
        users, copy_template, shot_template, django_capture_on_commit_callbacks,
        template_slug, params, field, words):
    assert_refused_out_of_bounds(users["creator"], django_capture_on_commit_callbacks,
                                 template_slug, params, field, words)


def _run(user, project, template, capture, **params):
    with capture(execute=False):
        job = submit_generation(user, project=project, template=template,
                                variables={"product": params.pop("product", "Kite")},
                                parameters=params)
    assert run_job(str(job.pk), worker="w") == "succeeded"
    return Asset.objects.filter(job=job).order_by("index")


def test_img2img_records_its_parent_and_refuses_other_projects(
        users, project, other_project, shot_template, django_capture_on_commit_callbacks,
        settings):
    settings.ASSAY_BATCH_WINDOW_MS = 0
    parent = _run(users["creator"], project, "shot", django_capture_on_commit_callbacks,
                  seed=1).get()
    assert parent.media_type == "image/png" and (parent.width, parent.height) == (64, 64)
    with django_capture_on_commit_callbacks(execute=False):
        child = submit_generation(users["creator"], project=project, template="shot",
                                  variables={"product": "Kite"}, parent_asset=str(parent.pk),
                                  parameters={"strength": 0.7, "seed": 2})
    assert run_job(str(child.pk), worker="w") == "succeeded"
    child.refresh_from_db()
    assert child.parent_asset_id == parent.pk
    # An asset of another project is refused, even for someone who can see both.
    foreign = make_template(other_project, users["outsider"], slug="s2",
                            generator="image-diffusers", text="{{ product }}")
    assert foreign
    outsider_parent = _run(users["outsider"], other_project, "s2",
                           django_capture_on_commit_callbacks, seed=3).get()
    response = post_generation(users["admin"], {"project": "launch", "template": "shot",
                                                "variables": {"product": "Kite"},
                                                "parent_asset": str(outsider_parent.pk)})
    assert response.status_code == 400
    assert "must be an asset of project launch" in response.json()["detail"]


def test_same_seed_same_bytes_alone_and_in_a_batch(
        require_postgres, users, project, copy_template, shot_template, settings,
        django_capture_on_commit_callbacks):
    settings.ASSAY_BATCH_WINDOW_MS = 0
    for template, params in (("copy", {"max_new_tokens": 24}), ("shot", {})):
        alone = _run(users["creator"], project, template, django_capture_on_commit_callbacks,
                     seed=42, **params).get().sha256
        jobs = []
        for i, product in enumerate(["Lamp", "Kite", "Mug"]):
            with django_capture_on_commit_callbacks(execute=False):
                jobs.append(submit_generation(
                    users["creator"], project=project, template=template,
                    variables={"product": product},
                    parameters={**params, "seed": 42 if product == "Kite" else i}))
        assert run_job(str(jobs[0].pk), worker="w") == "succeeded"
        batched = Asset.objects.get(job=jobs[1])
        assert GenerationJob.objects.get(pk=jobs[1].pk).usage["batch_size"] == 3
        assert batched.sha256 == alone, f"{template}: batch changed the output"
        assert hashlib.sha256(batched.read_bytes()).hexdigest() == batched.sha256


def test_a_second_job_on_the_same_model_reuses_the_loaded_pipeline(
        users, project, copy_template, django_capture_on_commit_callbacks):
    from assay.generation.runtime import model_cache

    model_cache().clear()
    stats = model_cache().stats
    loads_before = stats.loads
    _run(users["creator"], project, "copy", django_capture_on_commit_callbacks, max_new_tokens=8)
    _run(users["creator"], project, "copy", django_capture_on_commit_callbacks, max_new_tokens=8)
    assert stats.loads - loads_before == 1
    assert len([k for k in model_cache().keys() if k[0] == "text-transformers"]) == 1
