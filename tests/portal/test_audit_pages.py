"""The auditors' screens: the audit browser agrees with the REST filters and pages, shows
the chain's status and verifies on demand; exports are streamed and audited; the usage
dashboard's tables hold the REST roll-up's numbers; only auditors and admins get in."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from assay.accounts.models import Team
from assay.audit.chain import seal
from assay.audit.context import Actor, audit_context
from assay.audit.models import AuditEvent
from assay.audit.services import record
from assay.studio.models import Project
from tests.audit.conftest import audit_files, tampering  # noqa: F401 (fixture)
from tests.usage import make_record

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def portal(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rest(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-event="(\d+)"', html)]


@pytest.fixture
def history(users, project, other_project) -> list[AuditEvent]:
    with audit_context(actor=Actor.for_user(users["owner"])):
        record("studio.project.created", target=project)
        record("studio.prompt.created", target=project, data={"slug": "blurb"})
        record("studio.membership.changed", target=project,
               data={"user": "cleo", "before": "reviewer", "after": "creator"})
    with audit_context(actor=Actor.for_user(users["outsider"])):
        record("studio.generation.submitted", target=other_project)
    with audit_context(actor=Actor.system("worker")):
        record("studio.generation.started", target=project)
    seal()
    return list(AuditEvent.objects.order_by("id"))


@pytest.mark.parametrize("role", ["creator", "reviewer", "owner", "outsider"])
@pytest.mark.parametrize("url", ["/audit/", "/usage/"])
def test_only_auditors_and_admins_get_in_and_others_are_told_in_words(role, url, users):
    response = portal(users[role]).get(url)
    assert response.status_code == 403
    assert "Only auditors and platform admins" in response.content.decode()
    assert 'href="/audit/"' not in response.content.decode()  # no nav link either
    assert portal(users[role]).post("/audit/verify/").status_code == 403


def test_auditors_and_admins_see_the_nav_links(users):
    for role in ("auditor", "admin"):
        html = portal(users[role]).get("/").content.decode()
        assert 'href="/audit/"' in html and 'href="/usage/"' in html


@pytest.mark.parametrize("query", [
    "", "actor=olga", "action=studio.*", "action=studio.generation.*", "project=secret",
    "target_type=studio.project", "actor=system:worker"])
def test_the_browser_lists_what_the_rest_filters_list(query, users, project, history):
    if query == "target_type=studio.project":
        query += f"&target_id={project.pk}"
    client = portal(users["auditor"])  # signing in is itself an event: before the REST read
    expected = [r["id"] for r in
                rest(users["auditor"]).get(f"/api/v1/audit/events/?{query}").json()["results"]]
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200
    assert shown_ids(response.content.decode()) == expected[:25]


def test_a_bad_filter_is_a_400_in_words(users, history):
    response = portal(users["auditor"]).get("/audit/?since=yesterday")
    assert response.status_code == 400
    assert "since must be an ISO 8601 time" in response.content.decode()
    response = portal(users["auditor"]).get("/audit/?cursor=bogus")
    assert response.status_code == 400 and "not a cursor" in response.content.decode()


def test_cursor_pages_walk_newest_first_and_hold_under_new_inserts(users, project):
    with audit_context(actor=Actor.system("tests")):
        for i in range(60):
            record("studio.project.created", target=project, data={"i": i})
    client = portal(users["auditor"])
    first = client.get("/audit/?action=studio.project.created").content.decode()
    page_one = shown_ids(first)
    assert len(page_one) == 25 and page_one == sorted(page_one, reverse=True)
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    with audit_context(actor=Actor.system("tests")):  # new events do not shift the pages
        record("studio.project.created", target=project, data={"new": True})
    second = client.get(older).content.decode()
    page_two = shown_ids(second)
    assert len(page_two) == 25 and max(page_two) < min(page_one)
    assert "action=studio.project.created" in older  # the filter travels with the cursor
    third = re.search(r'href="([^"]+)" rel="next"', second).group(1).replace("&amp;", "&")
    assert len(shown_ids(client.get(third).content.decode())) == 10


def test_before_and_after_are_in_the_details_fold(users, history):
    html = portal(users["auditor"]).get("/audit/?action=studio.membership.changed"
                                        ).content.decode()
    fold = html[html.index("<details"):html.index("</details>")]
    assert "<h3>Before</h3>" in fold and "&quot;reviewer&quot;" in fold
    assert "<h3>After</h3>" in fold and "&quot;creator&quot;" in fold


def test_verify_now_records_like_rest_and_the_badge_says_intact(users, history):
    client = portal(users["auditor"])
    assert "Not verified yet" in client.get("/audit/").content.decode()
    response = client.post("/audit/verify/", {"query": "action=studio.*"})
    assert response.status_code == 302 and response["Location"] == "/audit/?action=studio.*"
    event = AuditEvent.objects.filter(action="audit.chain.verified").latest("id")
    assert event.actor_user_id == users["auditor"].pk
    assert event.data["ok"] is True and event.data["via"] == "portal"
    html = client.get("/audit/").content.decode()
    assert re.search(r'id="chain-badge">Chain intact, verified <time[^>]*>(just now|'
                     r'\d+ seconds? ago)', html), html[html.index("chain-status"):][:600]
    assert "The audit log holds" in html


def test_a_tampered_chain_shows_broken_at_its_event(users, history):
    target = history[1]
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s",
                       [target.pk])
    client = portal(users["auditor"])
    client.post("/audit/verify/")
    html = client.get("/audit/").content.decode()
    assert f'id="chain-badge">Broken at event {target.seq}<' in html
    assert "does not hold" in html


def test_the_export_buttons_carry_the_filters_and_stream_audited_files(users, history):
    client = portal(users["auditor"])
    html = client.get("/audit/?action=studio.*&actor=olga").content.decode()
    links = {kind: re.search(rf'id="export-{kind}" href="([^"]+)"', html).group(1)
             .replace("&amp;", "&") for kind in ("csv", "jsonl")}
    for kind, link in links.items():
        assert link.startswith("/api/v1/audit/events/export/?")
        assert "action=studio.%2A" in link and "actor=olga" in link and f"format={kind}" in link
    body = b"".join(client.get(links["jsonl"]).streaming_content).decode()
    rows = [json.loads(line) for line in body.splitlines()]
    assert [r["action"] for r in rows] == ["studio.project.created", "studio.prompt.created",
                                           "studio.membership.changed"]
    response = client.get(links["csv"])
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in table] == [r["action"] for r in rows]
    exports = AuditEvent.objects.filter(action="audit.events.exported").order_by("id")
    assert [e.data["format"] for e in exports] == ["jsonl", "csv"]
    assert exports[0].data["filter"] == {"actor": "olga", "action": "studio.*"}
    assert exports[0].actor_user_id == users["auditor"].pk
    done = AuditEvent.objects.filter(action="audit.events.export_completed").order_by("id")
    assert [(e.data["rows"], e.data["complete"]) for e in done] == [(3, True), (3, True)]


# --- usage --------------------------------------------------------------------------------

@pytest.fixture
def seeded(users, project, template) -> None:
    beta = Project.objects.create(team=Team.objects.create(name="Globex", slug="globex"),
                                  name="Beta", slug="beta")
    version = template.latest_version()
    make_record(project, users["creator"], version, day=D1, input_tokens=10, output_tokens=20,
                accelerator_seconds=0.5)
    make_record(project, users["owner"], version, day=D1, generator="image-diffusers",
                model="sd", images=2, accelerator_seconds=3.25)
    make_record(beta, users["outsider"], version, day=D2, input_tokens=5, output_tokens=5)


def table_rows(html: str, group: str) -> list[tuple[str, dict[str, str]]]:
    table = html[html.index(f'id="table-{group}"'):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        label = re.search(r'<th scope="row">(.*?)</th>', row).group(1)
        cells = dict(re.findall(r'data-metric="(\w+)" data-value="([^"]*)"', row))
        rows.append((label, cells))
    return rows


@pytest.mark.parametrize("group", ["day", "project", "user", "model"])
@pytest.mark.parametrize("params", [{}, {"since": "2026-03-02"}, {"project": "beta"}])
def test_the_usage_tables_hold_the_rest_rollup(group, params, users, seeded):
    report = rest(users["auditor"]).get("/api/v1/usage/", {**params, "group_by": group}).json()
    html = portal(users["admin"]).get("/usage/", params).content.decode()
    shown = table_rows(html, group)
    assert [label for label, _ in shown] == [str(r[group]) for r in report["rows"]]
    for (_, cells), row in zip(shown, report["rows"], strict=True):
        assert int(cells["jobs"]) == row["jobs"] and int(cells["images"]) == row["images"]
        assert int(cells["tokens"]) == row["input_tokens"] + row["output_tokens"]
        assert float(cells["accelerator_seconds"]) == row["accelerator_seconds"]


def test_generators_are_named_in_words_and_csv_links_match_rest(users, seeded):
    client = portal(users["auditor"])
    html = client.get("/usage/", {"since": "2026-03-01", "until": "2026-03-02"}).content.decode()
    labels = [label for label, _ in table_rows(html, "generator")]
    assert len(labels) == 2 and "dummy-echo" not in labels
    link = re.search(r'href="([^"]+)" id="csv-project"', html).group(1).replace("&amp;", "&")
    assert link.startswith("/api/v1/usage/?") and "group_by=project" in link
    assert "since=2026-03-01" in link and "format=csv" in link
    response = client.get(link)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["project"] for r in rows) == ["beta", "launch"]


def test_a_bad_usage_filter_is_a_400_in_words(users, seeded):
    response = portal(users["auditor"]).get("/usage/", {"since": "March"})
    assert response.status_code == 400
    assert "since must be a date such as 2026-03-01" in response.content.decode()


def test_query_counts_stay_flat_with_more_rows(users, history, seeded,
                                               django_assert_max_num_queries):
    """A page of events or five charts cost the same queries however many rows there are
    (session, user, the page's reads, the header's inbox count)."""
    client = portal(users["auditor"])
    client.get("/audit/")
    with django_assert_max_num_queries(6):
        assert client.get("/audit/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/usage/").status_code == 200
