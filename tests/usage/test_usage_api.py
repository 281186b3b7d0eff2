"""The auditors' usage API: roles, roll-ups by every group, date ranges, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from assay.accounts.models import Team
from assay.audit.models import AuditEvent
from assay.core.exceptions import InvalidInput
from assay.studio.models import Project
from governance.usage.models import Quota
from governance.usage.services import set_quota
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


# --- strict filters and quota writes (issue 9) --------------------------------------------

@pytest.mark.parametrize("params,field", [
    ({"project": "a\x00b"}, None),  # refused before any view (NUL in a query string)
    ({"user": "x" * 151}, "user"),
    ({"team": "t" * 101}, "team"),
    ({"group_by": "day," * 60}, "group_by"),
    ({"since": "2026-03-0²"}, "since"),
    ({"until": "99999-01-01"}, "until"),
    ({"group_by": "x" * 150}, "group_by"),
    ({"format": "xml"}, "format"),
])
def test_bad_filters_are_a_400_never_a_500(params, field, users, seeded):
    response = get(users["auditor"], **params)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    if field:
        assert field in body["errors"], body
    assert len(body["detail"]) < 400  # the bad value is echoed at most ~200 characters


def test_the_filters_are_a_filterset_in_the_schema():
    doc = yaml.safe_load(Client().get("/api/v1/schema/").content)
    names = {p["name"] for p in doc["paths"]["/api/v1/usage/"]["get"]["parameters"]}
    assert {"group_by", "since", "until", "project", "team", "user", "format"} <= names


QUOTAS = "/api/v1/projects/launch/quotas/"


def quota_state() -> tuple[list[Any], int]:
    return (list(Quota.objects.values_list("scope", "metric", "limit")),
            AuditEvent.objects.filter(action="usage.quota.set").count())


@pytest.mark.parametrize("body", [
    [], "limit", 5, None, {"unknown": 1},
    {"scope": "project", "metric": "jobs", "limit": 10, "unknown": 1},
    {"scope": "project", "metric": "jobs", "limit": 2**63},
    {"scope": "project", "metric": "jobs", "limit": "3"},
    {"scope": "project", "metric": "jobs", "limit": "²"},
    {"scope": ["project"], "metric": "jobs", "limit": 1},
    {"scope": "project", "metric": {"m": "jobs"}, "limit": 1},
    {"scope": "project", "metric": "jobs"},
    {"scope": "user", "metric": "jobs", "limit": 1, "user": 7},
    {"scope": "user", "metric": "jobs", "limit": 1, "user": "n" * 120},
    {"scope": "p" * 5000, "metric": "jobs", "limit": 1},
])
def test_bad_quota_writes_are_a_400_and_change_nothing(body, users, project):
    owner = client_for(users["owner"])
    assert owner.put(QUOTAS, {"scope": "project", "metric": "jobs", "limit": 10},
                     format="json").status_code == 200
    before = quota_state()
    response = owner.put(QUOTAS, body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert len(response.json()["detail"]) < 400
    assert quota_state() == before


def test_a_limit_beyond_bigint_in_raw_json_is_a_400(users, project):
    owner = client_for(users["owner"])
    before = quota_state()
    for text in ('{"scope": "project", "metric": "jobs", "limit": 9223372036854775808}',
                 '{"scope": "project", "metric": "jobs", "limit": 1' + "0" * 5000 + "}",
                 '{"scope": "project", "metric": "jobs", "limit": 1e400}'):
        response = owner.generic("PUT", QUOTAS, text, content_type="application/json")
        assert response.status_code == 400, response.content[:300]
    biggest = owner.put(QUOTAS, {"scope": "project", "metric": "jobs", "limit": 2**63 - 1},
                        format="json")
    assert biggest.status_code == 200 and biggest.json()["limit"] == 2**63 - 1
    assert quota_state()[1] == before[1] + 1


def test_the_command_line_limit_is_bounded_too(users, project):
    for limit in ("²", "9" * 20, "-1", "1.5"):
        with pytest.raises(InvalidInput):
            set_quota(None, "project", project, "jobs", limit)
    assert set_quota(None, "project", project, "jobs", " 12 ").limit == 12
