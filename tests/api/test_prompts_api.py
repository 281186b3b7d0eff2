"""The prompt library over REST: templates, versions, labels and rollback, diff, try-it."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from assay.generation.models import GenerationJob
from assay.generation.registry import register_model
from assay.studio.models import PromptLabel, PromptTemplate, PromptVersion

pytestmark = pytest.mark.django_db

VERSION = {"text": "Write about {{ product }}.", "generator": "dummy-echo",
           "variables": [{"name": "product", "description": "Product name",
                          "help": "As it appears on the box", "examples": ["Kite"],
                          "default": "", "required": True}]}


def client(user: Any) -> APIClient:
    c = APIClient()
    c.force_login(user)
    return c


def test_a_creator_creates_a_template_and_adds_versions(users, project):
    # given a creator of the project
    api = client(users["creator"])
    # when they create a template, then add a version
    made = api.post(f"/api/v1/projects/{project.slug}/templates/",
                    {"name": "Launch post", **VERSION}, format="json")
    assert made.status_code == 201, made.json()
    template_id = made.json()["id"]
    added = api.post(f"/api/v1/templates/{template_id}/versions/",
                     {**VERSION, "text": "Write warmly about {{ product }}.", "note": "warmer"},
                     format="json")
    # then both versions exist, latest follows the newest, help and examples are kept
    assert added.status_code == 201, added.json()
    assert added.json()["number"] == 2
    assert added.json()["variables"][0]["help"] == "As it appears on the box"
    assert added.json()["variables"][0]["examples"] == ["Kite"]
    listed = api.get(f"/api/v1/templates/{template_id}/versions/").json()
    assert [v["number"] for v in listed] == [2, 1]
    label = PromptLabel.objects.get(template_id=template_id, name="latest")
    assert label.version.number == 2
    one = api.get(f"/api/v1/templates/{template_id}/versions/{listed[1]['id']}/")
    assert one.status_code == 200 and one.json()["number"] == 1
    # and every change is audited
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"studio.prompt.created", "studio.prompt_version.created",
            "studio.prompt_label.moved"} <= actions
    # the project's template list (GET on the same path) still answers
    assert api.get(f"/api/v1/projects/{project.slug}/templates/").json()["results"]


def test_a_modality_the_generator_does_not_make_is_refused_in_words(users, template):
    response = client(users["owner"]).post(f"/api/v1/templates/{template.pk}/versions/",
                                           {**VERSION, "modality": "image"}, format="json")
    assert response.status_code == 400
    assert "makes text" in response.json()["detail"]


def test_reviewers_read_but_may_not_write(users, template):
    api = client(users["reviewer"])
    assert api.get(f"/api/v1/templates/{template.pk}/versions/").status_code == 200
    response = api.post(f"/api/v1/templates/{template.pk}/versions/", VERSION, format="json")
    assert response.status_code == 403
    assert PromptVersion.objects.filter(template=template).count() == 1


def test_an_outsider_gets_404_everywhere(users, template):
    api = client(users["outsider"])
    for url in (f"/api/v1/templates/{template.pk}/versions/",
                f"/api/v1/templates/{template.pk}/diff/?from=1&to=1"):
        assert api.get(url).status_code == 404
    assert api.post(f"/api/v1/templates/{template.pk}/render/", {"values": {}},
                    format="json").status_code == 404


def _two_versions(user: Any, template: PromptTemplate) -> tuple[int, int]:
    api = client(user)
    v1 = template.versions.get(number=1).pk
    v2 = api.post(f"/api/v1/templates/{template.pk}/versions/",
                  {"text": "Write about {{ product }} for {{ audience }}, briefly.",
                   "generator": "dummy-echo",
                   "variables": [{"name": "product"}, {"name": "audience"}]},
                  format="json").json()["id"]
    return v1, v2


def test_diff_of_two_versions(users, template):
    v1, v2 = _two_versions(users["owner"], template)
    body = client(users["reviewer"]).get(
        f"/api/v1/templates/{template.pk}/diff/?from={v1}&to={v2}").json()
    assert body["old"]["number"] == 1 and body["new"]["number"] == 2
    assert any(line.startswith("+") and "briefly" in line for line in body["text_diff"])
    missing = client(users["owner"]).get(f"/api/v1/templates/{template.pk}/diff/?from={v1}")
    assert missing.status_code == 400 and "missing: to" in missing.json()["detail"]


def test_labels_move_by_hand_and_roll_back(users, template):
    v1, v2 = _two_versions(users["owner"], template)
    api = client(users["creator"])
    url = f"/api/v1/templates/{template.pk}/labels/staging/"
    assert api.post(url, {"version": v2}, format="json").json()["number"] == 2
    rolled = api.post(url, {"version": v1}, format="json")
    assert rolled.status_code == 200 and rolled.json()["number"] == 1
    moves = AuditEvent.objects.filter(action="studio.prompt_label.moved",
                                      target_display__icontains="staging").count()
    assert moves == 2
    # latest moves by itself; a version of another template is not found; reviewers 403
    assert api.post(f"/api/v1/templates/{template.pk}/labels/latest/", {"version": v1},
                    format="json").status_code == 400
    assert api.post(url, {"version": 999999}, format="json").status_code == 404
    assert client(users["reviewer"]).post(url, {"version": v2},
                                          format="json").status_code == 403


def test_try_it_renders_without_storing(users, template):
    before = PromptVersion.objects.count()
    response = client(users["creator"]).post(
        f"/api/v1/templates/{template.pk}/render/",
        {"text": "Hello {{ who }}!", "variables": [{"name": "who"}], "values": {"who": "Ann"}},
        format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"prompt": "Hello Ann!", "characters": 10}
    assert PromptVersion.objects.count() == before


def test_try_it_with_bad_syntax_is_a_400_in_words(users, template):
    response = client(users["creator"]).post(
        f"/api/v1/templates/{template.pk}/render/",
        {"text": "Hello {{ who", "variables": [{"name": "who"}], "values": {}}, format="json")
    assert response.status_code == 400
    assert "syntax error on line 1" in response.json()["detail"]


def test_try_it_output_is_bounded(users, template, settings):
    settings.ASSAY_MAX_PROMPT_CHARS = 50
    response = client(users["creator"]).post(
        f"/api/v1/templates/{template.pk}/render/",
        {"text": "{% for i in range(100) %}word {% endfor %}", "variables": [],
         "values": {}}, format="json")
    assert response.status_code == 400
    assert "longer than 50 characters" in response.json()["detail"]


def test_try_it_defaults_to_the_latest_version(users, template):
    response = client(users["owner"]).post(
        f"/api/v1/templates/{template.pk}/render/",
        {"values": {"product": "Kite", "audience": "kids"}}, format="json")
    assert response.json()["prompt"] == "Write about Kite for kids."


@pytest.mark.parametrize("body", [
    {"name": "x", **VERSION, "slug": "not a slug"},
    {"name": "x", **VERSION, "targets": {"max_words": "many"}},
    {"name": "x", **VERSION, "variables": [{"name": "1st"}]},
    {"name": "x", **VERSION, "default_parameters": {"temperature": [1]}},
    {"name": "x", **VERSION, "generator": "no-such"},
    {"name": "x", **VERSION, "text": "{{ undeclared }}"},
    {"name": "x", **VERSION, "surprise": 1},
])
def test_bad_template_bodies_are_400s_in_words(users, project, body):
    response = client(users["owner"]).post(f"/api/v1/projects/{project.slug}/templates/",
                                           body, format="json")
    assert response.status_code == 400, response.content
    assert not PromptTemplate.objects.filter(project=project).exists()


def test_bad_label_names_and_version_ids_are_refused(users, template):
    api = client(users["owner"])
    v1 = template.versions.get().pk
    assert api.post(f"/api/v1/templates/{template.pk}/labels/{'a' * 41}/", {"version": v1},
                    format="json").status_code == 400
    assert api.get(f"/api/v1/templates/{template.pk}/diff/?from=abc&to={v1}"
                   ).status_code == 404


def test_a_version_names_its_default_model_and_runs_use_it(users, project, template,
                                                           tmp_path):
    # given: two models of the dummy generator, both allowed in the project
    for name in ("plain", "fancy"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "weights.bin").write_bytes(name.encode())
        register_model(name=name, generator_id="dummy-echo", source=str(folder),
                       license="test", all_projects=True, is_default=name == "plain")
    api = client(users["creator"])
    # when: a version names "fancy" as its default model
    added = api.post(f"/api/v1/templates/{template.pk}/versions/",
                     {**VERSION, "model": "fancy"}, format="json")
    assert added.status_code == 201, added.json()
    assert added.json()["default_model"] == "fancy"
    # then: a run that names no model uses it; a run that names one uses that
    run = {"project": project.slug, "prompt_version": added.json()["id"],
           "variables": {"product": "Kite"}}
    job = api.post("/api/v1/generations/", run, format="json")
    assert job.status_code == 201, job.json()
    assert GenerationJob.objects.get(pk=job.json()["id"]).model_ref["name"] == "fancy"
    named = api.post("/api/v1/generations/", {**run, "model": "plain"}, format="json")
    assert GenerationJob.objects.get(pk=named.json()["id"]).model_ref["name"] == "plain"


def test_a_default_model_that_is_not_registered_refuses_the_run_in_words(users, project,
                                                                         template):
    api = client(users["creator"])
    added = api.post(f"/api/v1/templates/{template.pk}/versions/",
                     {**VERSION, "model": "no-such-model"}, format="json")
    assert added.status_code == 201
    refused = api.post("/api/v1/generations/", {
        "project": project.slug, "prompt_version": added.json()["id"],
        "variables": {"product": "Kite"}}, format="json")
    assert refused.status_code == 400
    assert "no-such-model" in refused.json()["detail"] and "model" in refused.json()["errors"]
