"""REST twins of the asset library and page: the shared filters, versions, credentials,
downloads under a readable name, and regenerating as a revision through ``revision_of``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from assay.generation.models import GenerationJob
from assay.studio.models import Asset
from governance.provenance.services import sign_approved
from governance.review import workflow
from governance.review.checks import run_checks
from tests.conftest import generate_checked
from tests.provenance.conftest import approve

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def signing(settings: Any, dev_signing: Path, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def two_versions(users, project, template, django_capture_on_commit_callbacks):
    """Version 1 generated, version 2 edited from it, checked, approved and signed."""
    capture = django_capture_on_commit_callbacks
    first = generate_checked(users["creator"], project, capture)
    with capture(execute=False):
        second = workflow.revise_text(users["creator"], first, text="Kite, the revised intro.")
    run_checks(str(second.pk))
    review, _ = approve(second, users["creator"], users["reviewer"], capture)
    assert sign_approved(str(second.pk), review.pk) is not None
    return first, second


def test_the_list_carries_review_state_signature_and_version_facts(users, two_versions):
    first, second = two_versions
    rows = {r["id"]: r for r in client_for(users["creator"]).get(
        "/api/v1/assets/").json()["results"]}
    assert rows[str(second.pk)]["signed"] is True
    assert rows[str(second.pk)]["review_status"] == "approved"
    assert rows[str(second.pk)]["is_revision"] is True
    assert rows[str(first.pk)]["has_newer"] is True
    assert rows[str(first.pk)]["review_status"] == "superseded"
    assert rows[str(first.pk)]["created_by"] == "cara"


def test_the_list_costs_the_same_queries_for_more_assets(users, project, two_versions):
    client = client_for(users["creator"])
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/assets/", {"signed": "false"})
    for n in range(10):
        Asset.objects.create(project=project, kind="text", media_type="text/plain",
                             text=f"t{n}", byte_size=2, sha256=f"{n:064d}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/assets/").json()["results"]) == 12
    assert len(many) == len(few) <= 6


def test_versions_endpoint_lists_the_chain_with_how_each_was_made(users, two_versions):
    first, second = two_versions
    response = client_for(users["reviewer"]).get(f"/api/v1/assets/{first.pk}/versions/")
    assert response.status_code == 200
    rows = response.json()
    assert [r["id"] for r in rows] == [str(first.pk), str(second.pk)]
    assert [r["number"] for r in rows] == [1, 2]
    assert rows[0]["current"] and not rows[1]["current"]
    assert rows[1]["how"] == "Edited by cara" and rows[1]["signed"] is True


def test_credentials_endpoint_reads_back_the_signed_file(users, two_versions):
    first, second = two_versions
    client = client_for(users["creator"])
    unsigned = client.get(f"/api/v1/assets/{first.pk}/credentials/").json()
    assert unsigned["signed"] is False and unsigned["state"] == "unsigned"
    assert unsigned["served"]["sha256"] == first.sha256

    creds = client.get(f"/api/v1/assets/{second.pk}/credentials/").json()
    assert creds["signed"] is True and creds["state"] == "trusted"
    assert [(a["stage"], a["reviewer"], a["role"]) for a in creds["approvals"]] == [
        ("review", "rui", "reviewer")]
    assert creds["prompt"]["template"] == "blurb" and creds["prompt"]["version"] == 1
    assert creds["model"]["id"]
    assert len(creds["history"]) == 2  # the signed version and the edited-from parent
    download = client.get(f"/api/v1/assets/{second.pk}/content/")
    data = body(download)
    assert creds["served"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert creds["served"]["size"] == len(data)
    assert download["Content-Disposition"] == (
        f'attachment; filename="{creds["served"]["filename"]}"')
    assert creds["served"]["filename"] == "launch-blurb-v2.txt"


def test_the_outsider_gets_404_for_versions_and_credentials(users, two_versions):
    first, _ = two_versions
    client = client_for(users["outsider"])
    for tail in ("", "versions/", "credentials/", "content/"):
        assert client.get(f"/api/v1/assets/{first.pk}/{tail}").status_code == 404


def test_filters_are_documented_in_the_schema(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    params = {p["name"] for p in schema["paths"]["/api/v1/assets/"]["get"]["parameters"]}
    assert {"project", "template", "kind", "review_state", "signed", "creator",
            "created_after", "created_before", "q", "latest", "sort"} <= params
    assert "/api/v1/assets/{id}/versions/" in schema["paths"]
    assert "/api/v1/assets/{id}/credentials/" in schema["paths"]


def test_generating_a_revision_over_rest(users, project, template,
                                         django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    asset = generate_checked(users["creator"], project, capture)
    client = client_for(users["creator"])
    payload = {"project": "launch", "template": "blurb", "variables": {"product": "Kite"},
               "revision_of": str(asset.pk)}
    with capture(execute=False):
        response = client.post("/api/v1/generations/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert GenerationJob.objects.get(pk=response.json()["id"]).revision_of_id == asset.pk

    bad = client.post("/api/v1/generations/", {**payload, "revision_of": 5}, format="json")
    assert bad.status_code == 400 and "revision_of" in bad.json()["errors"]
    other = client.post("/api/v1/generations/", {**payload, "revision_of": str(
        GenerationJob.objects.get(pk=response.json()["id"]).pk)}, format="json")
    assert other.status_code == 400
    assert "asset of project launch" in other.json()["detail"]
