"""An auditor in a real browser: filters the audit log, verifies the chain, exports what
is shown as CSV and JSON Lines, and reads a usage chart whose numbers match its table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from assay.audit.context import Actor, audit_context
from assay.audit.models import AuditEvent
from assay.audit.services import record
from tests.portal.conftest import sign_in
from tests.usage import make_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSP_WATCH = """window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
    window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture
def activity(users, project, template, settings, tmp_path):
    settings.ASSAY_AUDIT_KEY = ""
    settings.ASSAY_AUDIT_KEY_FILE = tmp_path / "audit_key"
    settings.ASSAY_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    with audit_context(actor=Actor.for_user(users["owner"])):
        record("studio.prompt.created", target=project, data={"slug": "blurb"})
        record("studio.membership.changed", target=project,
               data={"user": "cara", "before": "reviewer", "after": "creator"})
    version = template.latest_version()
    today = dt.datetime.now(dt.UTC).date()
    make_record(project, users["creator"], version, day=today, input_tokens=10,
                output_tokens=20, accelerator_seconds=0.5)
    make_record(project, users["owner"], version, day=today, images=2,
                accelerator_seconds=3.0)


def downloaded(page, link) -> str:
    with page.expect_download() as info:
        link.click()
    return open(info.value.path(), encoding="utf-8").read()


def test_an_auditor_filters_verifies_exports_and_reads_a_chart(page, live_server, users,
                                                              activity):
    from playwright.sync_api import expect

    base = live_server.url
    page.add_init_script(CSP_WATCH)
    sign_in(page, base, "audrey")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    expect(page.locator("#chain-badge")).to_have_text("Not verified yet")

    # Filter: the owner's membership changes only.
    page.get_by_label("Who", exact=True).fill("olga")
    page.get_by_label("Action", exact=True).fill("studio.membership.*")
    page.get_by_role("button", name="Show events").click()
    rows = page.locator("#audit-events tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Role changed")
    fold = rows.first.locator("details")
    expect(fold.get_by_role("heading", name="Before")).not_to_be_visible()
    fold.locator("summary").click()
    expect(fold.get_by_role("heading", name="Before")).to_be_visible()
    expect(fold.locator("pre.json").first).to_contain_text('"reviewer"')

    # Verify now: the badge says the chain holds, and the filters are kept.
    page.get_by_role("button", name="Verify now").click()
    expect(page.locator("#chain-badge")).to_contain_text("Chain intact, verified")
    expect(rows).to_have_count(1)
    assert AuditEvent.objects.filter(action="audit.chain.verified",
                                     actor_user_id=users["auditor"].pk).count() == 1

    # Exports carry the filters; each is recorded.
    table = list(csv.DictReader(io.StringIO(downloaded(page, page.locator("#export-csv")))))
    assert [r["action"] for r in table] == ["studio.membership.changed"]
    lines = downloaded(page, page.locator("#export-jsonl")).splitlines()
    assert [json.loads(line)["actor"]["display"] for line in lines] == ["olga"]
    exported = AuditEvent.objects.filter(action="audit.events.exported").order_by("id")
    assert [e.data["format"] for e in exported] == ["csv", "jsonl"]

    # Usage: the chart is drawn from the table beside it.
    nav.get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", name="Usage", level=1)).to_be_visible()
    canvas = page.locator("#chart-user")
    expect(canvas).to_have_attribute("data-points", "2")
    box = canvas.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    user_table = page.locator("#table-user")
    expect(user_table.locator("tbody tr")).to_have_count(2)

    def chart_data(canvas_id: str) -> dict:
        return page.evaluate("""(id) => {
            const chart = window.Chart.getChart(id);
            return {labels: chart.data.labels, values: chart.data.datasets[0].data}; }""",
                             canvas_id)

    def table_data(metric: str) -> dict:
        labels = user_table.locator("tbody th").evaluate_all(
            "cells => cells.map(c => c.textContent.trim())")
        values = [float(v) for v in user_table.locator(
            f'tbody td[data-metric="{metric}"]').evaluate_all(
            "cells => cells.map(c => c.getAttribute('data-value'))")]
        return {"labels": labels, "values": values}

    assert chart_data("chart-user") == table_data("jobs") == {"labels": ["cara", "olga"],
                                                              "values": [1, 1]}
    page.get_by_label("Chart shows").select_option(label="Images")
    expect(canvas).to_have_attribute("data-metric", "images")
    assert chart_data("chart-user") == table_data("images")
    assert table_data("images")["values"] == [0, 2]
    assert page.evaluate("window.cspViolations") == []
    page.screenshot(path="/tmp/assay-usage.png", full_page=True)
