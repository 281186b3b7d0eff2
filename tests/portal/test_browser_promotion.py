"""Governed promotion in a real browser: an owner requests a promotion of the creator's
version to the protected ``production`` label (reached from Manage); the golden set
runs through the real runtime and checks; a reviewer reads the side-by-side review and
approves; the label moves.

Headless Chromium (Debian package) driven by Playwright, as the other browser tests.
"""

from __future__ import annotations

import pytest

from assay.generation.runtime import run_job
from assay.studio.models import Asset, PromptLabel
from governance.review.checks import run_checks
from governance.review.promotion_models import Promotion
from tests.portal.conftest import sign_in
from tests.review.promotion_helpers import protected_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_check_tasks(monkeypatch):
    """The checks run in this process below; nothing is sent to a broker."""
    monkeypatch.setattr("governance.review.hooks.queue_checks", lambda ids: 0)


def test_owner_requests_and_a_reviewer_approves(page, live_server, users, project, template,
                                               no_broker):
    from playwright.sync_api import expect

    v2 = protected_template(users, project, template)
    base = live_server.url
    # the owner requests the promotion from the promotions page (reached from Manage)
    sign_in(page, base, "olga")
    page.goto(f"{base}/projects/{project.slug}/manage/")
    page.get_by_role("link", name="Promotions").click()
    expect(page.locator("#protected-list")).to_contain_text("production")
    page.get_by_label("Version to promote").select_option(label="Blurb · version 2")
    page.get_by_label("To the protected label").select_option("production")
    page.get_by_label("Why (optional)").fill("Friendlier wording")
    page.get_by_role("button", name="Request the promotion").click()
    expect(page.locator("#golden-running")).to_contain_text("Still generating")
    promotion = Promotion.objects.get()
    assert len(no_broker) == 4  # two samples × (proposed, current)
    # the worker runs the golden set; the checks judge the outputs
    for run in promotion.runs.all():
        run_job(str(run.job_id), worker="browser-test")
    for asset in Asset.objects.filter(job__in=promotion.runs.values("job")):
        run_checks(str(asset.pk))
    page.context.clear_cookies()
    # a reviewer reads the side by side and approves
    sign_in(page, base, "rui")
    page.goto(f"{base}/projects/{project.slug}/promotions/{promotion.pk}/")
    expect(page.locator("#promotion-diff ins").first).to_be_visible()
    expect(page.locator("[data-sample='1']")).to_contain_text("Proposed version")
    expect(page.locator("[data-sample='1']")).to_contain_text("Current version")
    expect(page.locator("[data-sample='1']")).to_contain_text("Checks:")
    page.get_by_label("Comment (optional)").fill("Reads better")
    page.get_by_role("button", name="Approve and move “production”").click()
    expect(page.get_by_text("Approved: “production” now points at version 2.")).to_be_visible()
    expect(page.locator("#promotion-status")).to_have_text("Approved")
    assert PromptLabel.objects.get(template=template, name="production").version == v2
