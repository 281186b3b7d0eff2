"""The auditors' usage API: roles, roll-ups by every group, date ranges, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from rest_framework.test import APIClient

from assay.accounts.models import Team
from assay.audit.models import AuditEvent
from assay.studio.models import Project
from tests.usage import make_record

pytestmark = pytest.mark.django_db

D1, D2, D3 = dt.date(2026, 2, 27), dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def seeded(users: dict[str, Any], project: Any, template: Any) -> None:
    """Four jobs' usage over two teams, three users, two generators, two models, three days."""
    beta = Project.objects.create(team=Team.objects.create(name="Globex", slug="globex"),
                                  name="Beta", slug="beta")
    version = template.latest_version()
    make_record(project, users["creator"], version, day=D2, input_tokens=10, output_tokens=20,
                steps=1, wall_seconds=1.5, accelerator_seconds=0.5)
    make_record(project, users["owner"], version, day=D2, generator="image-diffusers",
                model="sd", images=2, steps=4, wall_seconds=2.25, accelerator_seconds=3.0)
    make_record(beta, users["outsider"], version, day=D3, input_tokens=5, output_tokens=5,
                wall_seconds=0.25)
    make_record(project, users["creator"], version, day=D1, input_tokens=1, output_tokens=2,
                wall_seconds=1.0)


def get(who: Any, /, **params: Any) -> Any:
    return client_for(who).get("/api/v1/usage/", params)


@pytest.mark.parametrize("role,status", [("creator", 403), ("reviewer", 403), ("owner", 403),
                                         ("outsider", 403), ("auditor", 200), ("admin", 200)])
def test_only_auditors_and_admins_read_usage(role, status, users, seeded):
    assert get(users[role]).status_code == status
    assert get(users[role], format="csv").status_code == status
    assert get(users[role], group_by="nonsense").status_code in (status, 400)


def test_anonymous_gets_401(seeded):
    assert APIClient().get("/api/v1/usage/").status_code == 401
    assert APIClient().get("/api/v1/usage/?format=csv").status_code == 401


@pytest.mark.parametrize("group,expected", [
    ("user", {"cara": (2, 0), "olga": (1, 2), "otto": (1, 0)}),
    ("team", {"acme": (3, 2), "globex": (1, 0)}),
    ("project", {"launch": (3, 2), "beta": (1, 0)}),
    ("generator", {"dummy-echo": (3, 0), "image-diffusers": (1, 2)}),
    ("model", {"dummy": (3, 0), "sd": (1, 2)}),
    ("day", {"2026-02-27": (1, 0), "2026-03-01": (2, 2), "2026-03-02": (1, 0)}),
])
def test_rolled_up_by_each_group(group, expected, users, seeded):
    body = get(users["auditor"], group_by=group).json()
    assert body["group_by"] == [group]
    assert {row[group]: (row["jobs"], row["images"]) for row in body["rows"]} == expected
    assert body["totals"]["jobs"] == 4 and body["totals"]["images"] == 2
    assert body["totals"]["input_tokens"] == 16 and body["totals"]["output_tokens"] == 27
    assert body["totals"]["wall_seconds"] == 5.0
    assert body["totals"]["accelerator_seconds"] == 3.5


def test_several_groups_and_no_group(users, seeded):
    rows = get(users["admin"], group_by="project,day").json()["rows"]
    assert [(r["project"], r["day"], r["jobs"]) for r in rows] == [
        ("beta", "2026-03-02", 1), ("launch", "2026-02-27", 1), ("launch", "2026-03-01", 2)]
    total = get(users["admin"]).json()["rows"]
    assert total == [{"jobs": 4, "images": 2, "input_tokens": 16, "output_tokens": 27,
                      "steps": 5, "wall_seconds": 5.0, "accelerator_seconds": 3.5}]


def test_date_range_and_filters(users, seeded):
    march_first = get(users["auditor"], since="2026-03-01", until="2026-03-01",
                      group_by="user").json()
    assert {r["user"]: r["jobs"] for r in march_first["rows"]} == {"cara": 1, "olga": 1}
    assert (march_first["since"], march_first["until"]) == ("2026-03-01", "2026-03-01")
    assert get(users["auditor"], since="2026-03-02").json()["totals"]["jobs"] == 1
    assert get(users["auditor"], until="2026-02-28").json()["totals"]["jobs"] == 1
    assert get(users["auditor"], project="launch").json()["totals"]["jobs"] == 3
    assert get(users["auditor"], team="globex").json()["totals"]["jobs"] == 1
    assert get(users["auditor"], user="cara").json()["totals"]["input_tokens"] == 11
    empty = get(users["auditor"], project="nowhere", group_by="day").json()
    assert empty["rows"] == [] and empty["totals"]["jobs"] == 0


@pytest.mark.parametrize("params,field", [
    ({"group_by": "user,colour"}, "group_by"),
    ({"since": "March"}, "since"),
    ({"until": "2026-13-01"}, "until"),
    ({"since": "2026-03-02", "until": "2026-03-01"}, "since"),
])
def test_bad_queries_are_a_400(params, field, users, seeded):
    response = get(users["auditor"], **params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_csv_export_streams_the_rows_and_is_audited(users, seeded):
    response = get(users["auditor"], group_by="team,generator", since="2026-03-01",
                   format="csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="usage.csv"' in response["Content-Disposition"]
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["team", "generator", "jobs", "images", "input_tokens", "output_tokens", "steps",
         "wall_seconds", "accelerator_seconds"],
        ["acme", "dummy-echo", "1", "0", "10", "20", "1", "1.5", "0.5"],
        ["acme", "image-diffusers", "1", "2", "0", "0", "4", "2.25", "3.0"],
        ["globex", "dummy-echo", "1", "0", "5", "5", "0", "0.25", "0.0"],
    ]
    event = AuditEvent.objects.get(action="usage.report.exported")
    assert event.actor_display == "audrey"
    assert event.data["filter"] == {"group_by": ["team", "generator"], "since": "2026-03-01",
                                    "until": None, "project": "", "team": "", "user": ""}


def test_json_reads_are_not_exports(users, seeded):
    get(users["auditor"], group_by="day")
    assert not AuditEvent.objects.filter(action="usage.report.exported").exists()
