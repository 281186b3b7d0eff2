"""REST for brand styles: CRUD under the project, who may do what, 4xx on bad input, the
schema, and ``style`` on POST /generations/."""

from __future__ import annotations

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from assay.generation.models import GenerationJob
from governance.review import styles
from governance.review.style_models import BrandStyle
from tests.conftest import make_template
from tests.review.style_helpers import approved_image, image_asset, image_template

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/launch/brand-styles/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def shot(project, users):
    return image_template(project, users["owner"])


def test_an_owner_adds_reads_changes_and_removes_a_style(users, project, shot,
                                                         django_capture_on_commit_callbacks):
    reference = approved_image(project, users["creator"], django_capture_on_commit_callbacks)
    owner = api(users["owner"])
    created = owner.post(URL, {"name": "Autumn", "prompt_additions": "watercolour",
                               "negative_prompt": "text", "width": 128, "height": 128,
                               "steps": 8, "reference": str(reference.pk), "strength": 0.5},
                         format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["reference"] == str(reference.pk) and body["project"] == "launch"
    detail = f"{URL}{body['id']}/"
    assert [s["name"] for s in api(users["creator"]).get(URL).json()] == ["Autumn"]
    assert api(users["reviewer"]).get(detail).json()["steps"] == 8
    changed = owner.patch(detail, {"steps": 20, "reference": None}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["steps"], changed.json()["reference"], changed.json()["width"]) == (
        20, None, 128)
    assert owner.delete(detail).status_code == 204
    assert owner.get(detail).status_code == 404
    assert list(AuditEvent.objects.filter(action__startswith="review.style.")
                .order_by("id").values_list("action", flat=True)) == [
        "review.style.created", "review.style.updated", "review.style.deleted"]


def test_members_read_owners_write_outsiders_find_nothing(users, project):
    style = styles.create_style(users["owner"], project, {"name": "Autumn"})
    detail = f"{URL}{style.pk}/"
    for role in ("creator", "reviewer", "auditor"):
        client = api(users[role])
        assert client.get(URL).status_code == 200
        assert client.post(URL, {"name": "Winter"}, format="json").status_code == 403
        assert client.patch(detail, {"steps": 3}, format="json").status_code == 403
        assert client.delete(detail).status_code == 403
    outsider = api(users["outsider"])
    for response in (outsider.get(URL), outsider.get(detail),
                     outsider.post(URL, {"name": "x"}, format="json"),
                     outsider.delete(detail)):
        assert response.status_code == 404
    assert "Autumn" not in outsider.get(URL).content.decode()
    assert BrandStyle.objects.get().steps is None
    assert api(users["admin"]).post(URL, {"name": "Winter"}, format="json").status_code == 201


@pytest.mark.parametrize("body", [
    {}, {"name": 5}, {"name": "A", "width": "128"}, {"name": "A", "width": 100},
    {"name": "A", "steps": 101}, {"name": "A", "strength": "half"}, {"name": "A", "steps": 2.5},
    {"name": "A", "reference": 7}, {"name": "A", "reference": "not-a-uuid"},
    {"name": "A", "guidance": 3}, {"name": "A", "negative_prompt": "x" * 1001}, ["A"],
])
def test_bad_input_is_a_400_and_writes_nothing(users, project, body):
    response = api(users["owner"]).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert not BrandStyle.objects.exists()


def test_a_reference_not_approved_or_a_taken_name_is_a_400(users, project, shot,
                                                         django_capture_on_commit_callbacks):
    pending = image_asset(project, users["creator"], django_capture_on_commit_callbacks)
    owner = api(users["owner"])
    refused = owner.post(URL, {"name": "A", "reference": str(pending.pk)}, format="json")
    assert refused.status_code == 400 and "approved" in refused.content.decode()
    owner.post(URL, {"name": "A"}, format="json")
    second = owner.post(URL, {"name": "B"}, format="json").json()
    clash = owner.patch(f"{URL}{second['id']}/", {"name": "a"}, format="json")
    assert clash.status_code == 400 and "already" in clash.content.decode()
    assert owner.get(f"{URL}not-a-number/").status_code == 404


def test_the_list_costs_the_same_queries_for_more_styles(users, project, shot,
                                                         django_capture_on_commit_callbacks):
    reference = approved_image(project, users["creator"], django_capture_on_commit_callbacks)
    client = api(users["creator"])
    styles.create_style(users["owner"], project, {"name": "A", "reference": str(reference.pk)})
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for name in ("B", "C", "D"):
        styles.create_style(users["owner"], project,
                            {"name": name, "reference": str(reference.pk)})
    with CaptureQueriesContext(connection) as four:
        assert len(client.get(URL).json()) == 4
    assert len(four) == len(one)


def test_the_schema_documents_the_style_endpoints_and_the_style_field():
    doc = yaml.safe_load(Client().get("/api/v1/schema/").content)
    assert {"get", "post"} <= set(doc["paths"]["/api/v1/projects/{slug}/brand-styles/"])
    one = doc["paths"]["/api/v1/projects/{slug}/brand-styles/{style_id}/"]
    assert {"get", "patch", "delete"} <= set(one)
    schemas = doc["components"]["schemas"]

    def body(operation):
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[1]]

    assert body(doc["paths"]["/api/v1/projects/{slug}/brand-styles/"]["post"])["required"] == [
        "name"]
    assert "required" not in body(one["patch"])
    assert "style" in body(doc["paths"]["/api/v1/generations/"]["post"])["properties"]


# --- style on POST /generations/ -----------------------------------------------------------
def test_submitting_with_a_style_over_rest(users, project, shot,
                                           django_capture_on_commit_callbacks):
    reference = approved_image(project, users["creator"], django_capture_on_commit_callbacks)
    styles.create_style(users["owner"], project, {
        "name": "Autumn", "prompt_additions": "watercolour", "negative_prompt": "text",
        "width": 128, "height": 96, "steps": 6, "reference": str(reference.pk)})
    with django_capture_on_commit_callbacks(execute=False):
        response = api(users["creator"]).post("/api/v1/generations/", {
            "project": "launch", "template": "shot", "variables": {"product": "Kite"},
            "style": "Autumn"}, format="json")
    assert response.status_code == 201, response.json()
    job = GenerationJob.objects.get(pk=response.json()["id"])
    assert job.rendered_prompt.endswith(", watercolour")
    assert job.parameters["style"] == "Autumn" and job.parameters["negative_prompt"] == "text"
    assert (job.parameters["width"], job.parameters["height"], job.parameters["steps"]) == (
        128, 96, 6)
    assert job.parent_asset_id == reference.pk


@pytest.mark.parametrize(("template", "style"), [("shot", "Winter"), ("blurb", "Autumn"),
                                                 ("shot", 7)])
def test_a_bad_style_on_submission_is_a_400(users, project, shot, template, style,
                                            django_capture_on_commit_callbacks):
    make_template(project, users["owner"])
    styles.create_style(users["owner"], project, {"name": "Autumn"})
    before = GenerationJob.objects.count()
    with django_capture_on_commit_callbacks(execute=False):
        response = api(users["creator"]).post("/api/v1/generations/", {
            "project": "launch", "template": template, "variables": {"product": "Kite"},
            "style": style}, format="json")
    assert response.status_code == 400, response.content
    assert GenerationJob.objects.count() == before
