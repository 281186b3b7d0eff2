"""The review queue, the inbox and my submissions in a real browser (headless Chromium).

An editor narrows the queue with its filters and opens a review from it; a creator whose
asset was sent back reads it in the inbox, marks it read, and finds the next step in
"My submissions".
"""

from __future__ import annotations

import re

import pytest

from governance.review import workflow
from tests.portal.conftest import sign_in
from tests.review.queue_factories import make_review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_filters_the_queue_and_opens_a_review(page, live_server, users, project):
    from playwright.sync_api import expect

    make_review(project, users["creator"], checks=("pass",),
                text="The Kite kettle boils a litre in ninety seconds.")
    failing = make_review(project, users["creator"], kind="image", checks=("fail",))
    make_review(project, users["creator"], checks=("warn",),
                text="The Kite kettle is the best kettle ever made.")
    base = live_server.url

    sign_in(page, base, "rui")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    rows = page.locator("#awaiting-me tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#awaiting-me")).to_contain_text("All checks passed")
    expect(page.locator("#awaiting-me")).to_contain_text("1 needs a look")

    page.get_by_label("Checks").select_option(label="A check failed")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*/reviews/\?.*checks=failed.*"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1 failed")
    expect(rows.first.locator("img.queue-thumb")).to_be_visible()
    expect(page.get_by_label("Checks")).to_have_value("failed")  # the form keeps it

    page.get_by_label("Kind").select_option(label="Text")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#awaiting-me")).to_have_count(0)
    expect(page.get_by_text("Nothing waiting for you matches these filters.")).to_be_visible()
    page.get_by_role("link", name="Clear the filters").click()
    expect(rows).to_have_count(3)

    page.get_by_label("Checks").select_option("failed")
    page.get_by_role("button", name="Apply").click()
    rows.first.get_by_role("link").first.click()
    page.wait_for_url(f"{base}/reviews/{failing.pk}/")
    expect(page.locator("#review-status")).to_have_text("in review")


def test_creator_reads_changes_requested_in_the_inbox_and_my_submissions(
        page, live_server, users, project):
    from playwright.sync_api import expect

    review = make_review(project, users["creator"], checks=("warn",),
                         text="The Kite kettle is the best kettle ever made.")
    workflow.decide(users["reviewer"], review, decision="request_changes",
                    content_sha256=review.content_sha256,
                    comment="Say what makes it best: the ninety-second boil.")
    base = live_server.url

    sign_in(page, base, "cara")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.locator("#inbox-unread")).to_have_text("1 unread")
    nav.get_by_role("link", name=re.compile("^Inbox")).click()
    page.wait_for_url(f"{base}/inbox/")
    entry = page.locator("#inbox-entries li").first
    expect(entry).to_contain_text("Changes requested")
    expect(entry).to_contain_text("rui requested changes to your text asset in Launch.")
    expect(entry).to_contain_text("Say what makes it best: the ninety-second boil.")
    expect(entry).to_contain_text("Just now")
    expect(entry).to_have_class(re.compile("inbox-unread"))

    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_text("Everything in your inbox is marked read.")).to_be_visible()
    expect(nav.locator("#inbox-unread")).to_have_count(0)
    expect(page.locator("#inbox-entries li").first).not_to_have_class(re.compile("inbox-unread"))

    page.get_by_role("navigation", name="Review screens").get_by_role(
        "link", name="My submissions").click()
    page.wait_for_url(f"{base}/reviews/mine/")
    line = page.locator("#my-submissions tbody tr").first
    expect(line).to_contain_text("Changes requested")
    expect(line).to_contain_text("Say what makes it best")
    line.get_by_role("link", name="Changes requested: revise it").click()
    page.wait_for_url(f"{base}/assets/{review.asset_id}/")
