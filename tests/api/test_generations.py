"""REST: submitting, reading and cancelling generations; bad input is a clear 4xx."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from assay.generation.models import GenerationJob
from assay.studio.models import Asset

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def submit(user, django_capture_on_commit_callbacks, **body):
    payload = {"project": "launch", "template": "blurb", "variables": {"product": "Kite"}}
    payload.update(body)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(user).post("/api/v1/generations/", payload, format="json")
    return response, callbacks


def test_submit_creates_a_queued_job_its_event_and_one_send(
        users, template, django_capture_on_commit_callbacks):
    response, callbacks = submit(users["creator"], django_capture_on_commit_callbacks,
                                 parameters={"seed": 7, "steps": 3})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["seed"] == 7 and body["parameters"]["steps"] == 3
    assert body["rendered_prompt"] == "Write about Kite for everyone."
    assert body["prompt"] == {"version_id": template.latest_version().pk, "template": "blurb",
                              "number": 1}
    job = GenerationJob.objects.get(pk=body["id"])
    event = AuditEvent.objects.get(action="studio.generation.submitted", target_id=str(job.pk))
    assert event.actor_display == "cara" and event.project_id == job.project_id
    assert event.correlation_id == job.correlation_id
    assert len(callbacks) == 1  # the task is sent once, after commit


def test_seed_is_chosen_and_stored_when_missing(users, template,
                                                django_capture_on_commit_callbacks):
    response, _ = submit(users["creator"], django_capture_on_commit_callbacks)
    assert response.status_code == 201
    assert isinstance(response.json()["seed"], int)


@pytest.mark.parametrize("body,status,field,words", [
    ({"variables": {"product": "Kite", "colour": "red"}}, 400, "colour", "not a declared"),
    ({"variables": {"audience": "teams"}}, 400, "product", "is required"),
    ({"variables": {"product": "x" * 5000}}, 400, "product", "limit is 4000"),
    ({"generator": "nope"}, 400, "generator", "unknown"),
    ({"parameters": {"steps": 100000}}, 400, "parameters.steps", "at most 1000"),
    ({"parameters": {"steps": "many"}}, 400, "parameters.steps", "whole number"),
    ({"parameters": {"temperature": 2}}, 400, "parameters.temperature", "not a parameter"),
    ({"template": "missing"}, 404, "template", "not found"),
    ({"project": "nowhere"}, 404, "project", "not found"),
    ({"surprise": 1}, 400, "surprise", "unknown field"),
    ({"variables": ["Kite"]}, 400, "variables", "must be an object"),
])
def test_bad_input_is_refused_clearly_and_nothing_is_stored(
        users, template, django_capture_on_commit_callbacks, body, status, field, words):
    events_before = AuditEvent.objects.count()
    response, callbacks = submit(users["creator"], django_capture_on_commit_callbacks, **body)
    assert response.status_code == status, response.json()
    payload = response.json()
    assert payload["detail"]
    assert words in " ".join(payload["errors"][field])
    assert not GenerationJob.objects.exists()
    assert AuditEvent.objects.count() == events_before
    assert not callbacks


def test_oversized_prompt_is_refused(users, project, django_capture_on_commit_callbacks,
                                     settings):
    from tests.conftest import make_template

    settings.ASSAY_MAX_PROMPT_CHARS = 50
    make_template(project, users["owner"], slug="long", text="{{ product }} " + "x" * 60)
    response, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="long")
    assert response.status_code == 400
    assert "the limit is 50" in response.json()["detail"]
    assert not GenerationJob.objects.exists()


def test_template_expansion_bombs_are_refused(users, project, django_capture_on_commit_callbacks):
    from tests.conftest import make_template

    make_template(project, users["owner"], slug="bomb", text="{{ product * 100000000 }}")
    response, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="bomb")
    assert response.status_code == 400
    assert "sandbox" in response.json()["detail"]


def test_a_non_member_cannot_submit(users, template, django_capture_on_commit_callbacks):
    response, _ = submit(users["outsider"], django_capture_on_commit_callbacks)
    assert response.status_code == 404
    assert not GenerationJob.objects.exists()


def test_a_reviewer_cannot_submit(users, template, other_project,
                                  django_capture_on_commit_callbacks):
    # cara creates in "launch" but is only a reviewer in "secret"
    from tests.conftest import make_template

    make_template(other_project, users["outsider"], slug="s")
    response, _ = submit(users["creator"], django_capture_on_commit_callbacks,
                         project="secret", template="s")
    assert response.status_code == 403
    assert "role in project 'secret' is reviewer" in response.json()["detail"]
    assert not GenerationJob.objects.exists()


def test_auditors_read_but_cannot_submit(users, template, django_capture_on_commit_callbacks):
    response, _ = submit(users["auditor"], django_capture_on_commit_callbacks)
    assert response.status_code == 403
    assert client_for(users["auditor"]).get("/api/v1/projects/").json()["count"] == 1


def test_unauthenticated_calls_get_401(template):
    assert APIClient().get("/api/v1/generations/").status_code == 401
    assert APIClient().post("/api/v1/generations/", {}, format="json").status_code == 401


def test_jobs_and_assets_are_scoped_to_members(users, template, other_project,
                                               django_capture_on_commit_callbacks):
    from assay.generation.runtime import run_job

    response, _ = submit(users["creator"], django_capture_on_commit_callbacks)
    job_id = response.json()["id"]
    assert run_job(job_id, worker="test") == "succeeded"
    outsider = client_for(users["outsider"])
    assert outsider.get(f"/api/v1/generations/{job_id}/").status_code == 404
    assert outsider.get("/api/v1/generations/").json()["count"] == 0
    assert outsider.get("/api/v1/projects/launch/assets/").status_code == 404
    asset = Asset.objects.get()
    assert outsider.get(f"/api/v1/assets/{asset.pk}/content/").status_code == 404
    member = client_for(users["reviewer"])
    assert member.get(f"/api/v1/generations/{job_id}/").json()["status"] == "succeeded"
    content = member.get(f"/api/v1/assets/{asset.pk}/content/")
    assert content.status_code == 200
    assert b"".join(content.streaming_content if content.streaming else [content.content]) \
        == asset.read_bytes()
    listed = member.get("/api/v1/projects/launch/assets/").json()
    assert [a["sha256"] for a in listed["results"]] == [asset.sha256]


def test_list_endpoints_use_a_fixed_number_of_queries(users, template,
                                                      django_capture_on_commit_callbacks):
    from assay.generation.runtime import run_job

    client = client_for(users["creator"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/generations/").status_code == 200
        return len(ctx.captured_queries)

    ids = [submit(users["creator"], django_capture_on_commit_callbacks)[0].json()["id"]
           for _ in range(2)]
    run_job(ids[0], worker="test")
    few = count()
    for _ in range(5):
        job_id = submit(users["creator"], django_capture_on_commit_callbacks)[0].json()["id"]
        run_job(job_id, worker="test")
    assert count() == few


def test_cancel_a_queued_job(users, template, django_capture_on_commit_callbacks):
    job_id = submit(users["creator"], django_capture_on_commit_callbacks)[0].json()["id"]
    response = client_for(users["creator"]).post(f"/api/v1/generations/{job_id}/cancel/",
                                                 {"reason": "typo"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    event = AuditEvent.objects.get(action="studio.generation.cancelled")
    assert event.reason == "typo"
    again = client_for(users["creator"]).post(f"/api/v1/generations/{job_id}/cancel/")
    assert again.status_code == 409
    assert "already cancelled" in again.json()["detail"]


def test_a_reviewer_cannot_cancel(users, template, django_capture_on_commit_callbacks):
    job_id = submit(users["creator"], django_capture_on_commit_callbacks)[0].json()["id"]
    response = client_for(users["reviewer"]).post(f"/api/v1/generations/{job_id}/cancel/")
    assert response.status_code == 403
    assert GenerationJob.objects.get(pk=job_id).status == "queued"


def test_generators_endpoint_lists_schemas(users):
    body = client_for(users["creator"]).get("/api/v1/generators/").json()
    dummy = next(g for g in body if g["id"] == "dummy-echo")
    steps = next(p for p in dummy["parameters"] if p["name"] == "steps")
    assert steps == {"name": "steps", "type": "int", "help": "Progress steps.", "default": 1,
                     "minimum": 1, "maximum": 1000,
                     "label": "Steps", "plain": False}
    assert any(p["name"] == "seed" for p in dummy["parameters"])
