"""The auditors' REST API: who gets in, filters, cursor pages, streamed exports."""

from __future__ import annotations

import base64
import csv
import io
import json
import tracemalloc
from datetime import timedelta

import pytest
import yaml
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from assay.accounts.services import issue_token
from assay.audit.chain import seal
from assay.audit.context import Actor, audit_context
from assay.audit.models import AuditEvent
from assay.audit.services import record
from governance.audit.export import verify_jsonl

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/audit/events/", "/api/v1/audit/events/export/?format=csv",
             "/api/v1/audit/events/export/?format=jsonl", "/api/v1/audit/verify/",
             "/api/v1/audit/actions/"]


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("role,status", [
    ("creator", 403), ("reviewer", 403), ("owner", 403), ("outsider", 403),
    ("auditor", 200), ("admin", 200), (None, 401)])
def test_only_auditors_and_admins_get_in(path, role, status, users, project):
    record("studio.project.created", target=project)
    response = client_for(users[role] if role else None).get(path)
    assert response.status_code == status, body(response)
    if status != 200:
        assert "detail" in response.json()


def test_an_api_token_of_an_auditor_works_and_is_the_recorded_actor(users, project):
    token, raw = issue_token(users["auditor"], name="siem")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/audit/events/export/?format=jsonl&action=accounts.*")
    assert response.status_code == 200 and isinstance(response, StreamingHttpResponse)
    body(response)
    exported = AuditEvent.objects.get(action="audit.events.exported")
    assert exported.actor_kind == "token" and exported.actor_user_id == users["auditor"].pk


@pytest.fixture
def history(users, project, other_project):
    """A small, varied log."""
    with audit_context(actor=Actor.for_user(users["owner"])):
        record("studio.project.created", target=project)
        record("studio.prompt.created", target=project, data={"slug": "blurb"})
    with audit_context(actor=Actor.for_user(users["outsider"])):
        record("studio.generation.submitted", target=other_project)
    with audit_context(actor=Actor.system("worker")):
        record("studio.generation.started", target=project)
    record("accounts.user.login_failed", actor=Actor.system("auth"), data={"username": "x"})
    seal()
    return list(AuditEvent.objects.order_by("id"))


def listed(users, query: str) -> list[dict]:
    response = client_for(users["auditor"]).get(f"/api/v1/audit/events/?{query}")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_filters(users, project, other_project, history):
    actions = lambda rows: [r["action"] for r in rows]  # noqa: E731
    assert actions(listed(users, "actor=olga")) == ["studio.prompt.created",
                                                     "studio.project.created"]
    assert len(listed(users, f"actor={users['owner'].pk}")) == 2
    assert actions(listed(users, "actor=system:worker")) == ["studio.generation.started"]
    assert actions(listed(users, "action=studio.*")) == [
        "studio.generation.started", "studio.generation.submitted", "studio.prompt.created",
        "studio.project.created"]
    assert actions(listed(users, "action=studio.generation.*")) == [
        "studio.generation.started", "studio.generation.submitted"]
    assert actions(listed(users, "action=accounts.user.login_failed")) == [
        "accounts.user.login_failed"]
    assert {r["project"] for r in listed(users, "project=secret")} == {"secret"}
    assert len(listed(users, f"project={project.pk}")) == 3
    rows = listed(users, f"target_type=studio.project&target_id={other_project.pk}")
    assert actions(rows) == ["studio.generation.submitted"]
    now = timezone.now()
    assert len(listed(users, f"since={(now - timedelta(minutes=1)).isoformat()}"
                             .replace("+", "%2B"))) == 5
    assert listed(users, f"until={(now - timedelta(minutes=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
                  ) == []
    row = listed(users, "action=studio.prompt.created")[0]
    assert row["seq"] == 2 and row["hash"] and row["actor"]["display"] == "olga"
    assert row["action_label"] == "Prompt template created" and row["data"] == {"slug": "blurb"}


@pytest.mark.parametrize("query,field", [
    ("since=yesterday", "since"), ("until=2026-13-01", "until"),
    ("action=Studio%20Things", "action"), ("project=nope", "project"),
    ("target_id=5", "target_type")])
def test_bad_filters_are_a_400_naming_the_parameter(users, query, field):
    response = client_for(users["auditor"]).get(f"/api/v1/audit/events/?{query}")
    assert response.status_code == 400 and field in response.json()["errors"]
    export = client_for(users["auditor"]).get(f"/api/v1/audit/events/export/?{query}")
    assert export.status_code == 400


def test_cursor_pages_walk_the_whole_log_newest_first(users, project):
    for i in range(7):
        record("studio.project.created", target=project, data={"i": i})
    client = client_for(users["auditor"])
    url, seen = "/api/v1/audit/events/?page_size=3", []
    while url:
        page = client.get(url).json()
        assert "count" not in page  # no COUNT(*) over the log
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
        record("studio.project.created", target=project)  # new events do not shift pages
    expected = list(AuditEvent.objects.filter(action="studio.project.created", data__contains="i")
                    .order_by("-id").values_list("id", flat=True))
    assert [i for i in seen if i in expected] == expected and len(seen) == len(set(seen))


def test_csv_and_jsonl_exports_stream_the_filtered_rows(users, project, history):
    client = client_for(users["auditor"])
    response = client.get("/api/v1/audit/events/export/?format=csv&action=studio.*")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert [r["action"] for r in rows] == ["studio.project.created", "studio.prompt.created",
                                           "studio.generation.submitted",
                                           "studio.generation.started"]
    assert json.loads(rows[1]["data"]) == {"slug": "blurb"} and rows[1]["seq"] == "2"

    response = client.get(f"/api/v1/audit/events/export/?format=jsonl&project={project.slug}")
    assert isinstance(response, StreamingHttpResponse)
    lines = [json.loads(line) for line in body(response).decode().splitlines()]
    assert {line["project_id"] for line in lines} == {project.pk} and len(lines) == 3
    assert lines[0]["actor"] == {"kind": "user", "id": str(users["owner"].pk),
                                 "display": "olga", "user_id": users["owner"].pk}


def test_each_export_is_itself_audited_with_its_filter_and_count(users, project, history):
    client = client_for(users["auditor"])
    body(client.get("/api/v1/audit/events/export/?format=csv&action=studio.*&actor=olga"))
    started = AuditEvent.objects.get(action="audit.events.exported")
    assert started.actor_display == "audrey"
    assert started.data["filter"] == {"action": "studio.*", "actor": "olga"}
    assert started.data["format"] == "csv" and started.data["through_id"] == history[-1].pk
    done = AuditEvent.objects.get(action="audit.events.export_completed")
    assert done.data == {"export_event": started.pk, "rows": 2, "complete": True}
    assert done.correlation_id == started.correlation_id and done.actor_display == "audrey"


def test_a_full_jsonl_export_can_be_verified_away_from_the_platform(users, project, history):
    response = client_for(users["auditor"]).get("/api/v1/audit/events/export/?format=jsonl")
    count, first_bad = verify_jsonl(body(response).decode().splitlines())
    assert count == len(history) and first_bad is None
    lines = body(client_for(users["auditor"]).get(
        "/api/v1/audit/events/export/?format=jsonl")).decode().splitlines()
    forged = json.loads(lines[2])
    forged["reason"] = "edited in the export"
    lines[2] = json.dumps(forged)
    assert verify_jsonl(lines)[1] == 3


def test_the_actions_endpoint_lists_codes_labels_and_descriptions(users):
    actions = client_for(users["admin"]).get("/api/v1/audit/actions/").json()
    by_code = {a["code"]: a for a in actions}
    assert by_code["audit.events.exported"]["label"] == "Audit log exported"
    assert by_code["studio.prompt_label.moved"]["description"]
    assert [a["code"] for a in actions] == sorted(by_code)


def test_exporting_100k_events_keeps_memory_flat(users, project):
    """tracemalloc's peak while reading the whole stream stays far below the export."""
    now = timezone.now()
    payload = "x" * 200
    AuditEvent.objects.bulk_create(
        [AuditEvent(created_at=now, action="studio.generation.submitted", actor_kind="user",
                    actor_id="1", actor_display="cara", actor_user_id=1,
                    target_type="generation.generationjob", target_id=str(i),
                    target_display=f"Job {i}", project_id=project.pk,
                    correlation_id=f"c{i}", user_agent="bench", data={"i": i, "p": payload})
         for i in range(100_000)], batch_size=2000)
    response = client_for(users["auditor"]).get(
        "/api/v1/audit/events/export/?format=jsonl&action=studio.generation.submitted")
    assert isinstance(response, StreamingHttpResponse)
    tracemalloc.start()
    try:
        rows = size = 0
        for chunk in response.streaming_content:
            rows += 1
            size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == 100_000
    assert size > 40 * 1024 * 1024  # the rows, materialised, would be this big
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# --- strict filters and pages (issue 9) -----------------------------------------------------

def cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize("params,field", [
    ({"actor": "a\x00b"}, None),  # a NUL in the query string: refused before any view
    ({"project": "\x00"}, None),
    ({"actor": "x" * 151}, "actor"),
    ({"action": "studio." * 20}, "action"),
    ({"target_type": "t" * 101, "target_id": "1"}, "target_type"),
    ({"correlation_id": "c" * 65}, "correlation_id"),
    ({"since": "2026-01-0²"}, "since"),
    ({"until": "9" * 100}, "until"),
    ({"page_size": "9" * 20}, "page_size"),
    ({"page_size": "9" * 5000}, "page_size"),
    ({"page_size": "²"}, "page_size"),
    ({"page_size": "0"}, "page_size"),
    ({"page_size": "-1"}, "page_size"),
    ({"page_size": "ten"}, "page_size"),
    ({"cursor": cursor("p=abc")}, "cursor"),
    ({"cursor": cursor("p=" + "9" * 30)}, "cursor"),
    ({"cursor": cursor("o=" + "9" * 5000)}, "cursor"),
    ({"cursor": "not base64 at all"}, "cursor"),
])
def test_bad_filters_and_pages_are_a_400_never_a_500(users, history, params, field):
    response = client_for(users["auditor"]).get("/api/v1/audit/events/", params)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    if field:
        assert field in body["errors"], body
    assert len(body["detail"]) < 400


@pytest.mark.parametrize("params", [{"actor": "²"}, {"project": "²"},
                                    {"actor": "9" * 30}, {"project": "9" * 30}])
def test_digits_that_are_not_ids_are_not_a_500(users, history, params):
    """``"²".isdigit()`` is true but int() refuses it; 30 digits overflow bigint."""
    response = client_for(users["auditor"]).get("/api/v1/audit/events/", params)
    if "project" in params:
        assert response.status_code == 400 and "project" in response.json()["errors"]
    else:
        assert response.status_code == 200 and response.json()["results"] == []


def test_page_size_is_capped_and_cursors_still_walk(users, history):
    client = client_for(users["auditor"])
    page = client.get("/api/v1/audit/events/", {"page_size": "100000"})
    assert page.status_code == 200 and len(page.json()["results"]) == len(history)
    first = client.get("/api/v1/audit/events/", {"page_size": "2"}).json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == len(second["results"]) == 2
    assert first["results"][-1]["id"] > second["results"][0]["id"]


def test_the_export_refuses_a_long_format_without_repeating_it(users):
    fmt = "x" * 3000
    response = client_for(users["auditor"]).get("/api/v1/audit/events/export/",
                                                {"format": fmt})
    assert response.status_code == 400 and fmt not in json.dumps(response.json())
    assert not AuditEvent.objects.filter(action="audit.events.exported").exists()


def test_the_filters_are_documented_in_the_schema():
    doc = yaml.safe_load(Client().get("/api/v1/schema/").content)
    listing = {p["name"] for p in doc["paths"]["/api/v1/audit/events/"]["get"]["parameters"]}
    assert {"actor", "action", "project", "target_type", "target_id", "correlation_id",
            "since", "until", "cursor", "page_size"} <= listing
    export = {p["name"] for p in
              doc["paths"]["/api/v1/audit/events/export/"]["get"]["parameters"]}
    assert {"actor", "action", "format"} <= export
