"""The owner edits the brand kit in a real browser and the next asset's check changes.

Headless Chromium (Debian package) driven by Playwright. Generation and checks run in this
process (the dummy generator echoes the prompt; ``run_checks`` runs in-process), so the
asset made after the edit is checked against the edited kit.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.urls import reverse

from governance.review.brand import kit_for
from governance.review.models import CheckResult, Review
from tests.conftest import generate_checked
from tests.portal.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class NoBrokerSends:
    """In a transactional test commits are real: only stop the broker sends."""

    def __call__(self, execute: bool = False) -> Any:
        return mock.patch("assay.celery.app.send_task")


def _review(asset: Any) -> int:
    return Review.objects.get(asset=asset).pk


def _banned(asset: Any) -> CheckResult:
    return CheckResult.objects.get(asset=asset, check_id="banned-terms",
                                   content_sha256=asset.sha256)


def test_owner_bans_a_term_and_the_next_asset_is_flagged(page, live_server, users, project,
                                                         template, no_broker):
    from playwright.sync_api import expect

    capture = NoBrokerSends()
    before = generate_checked(users["creator"], project, capture, product="Kite")
    assert _banned(before).status == "pass"
    base = live_server.url

    sign_in(page, base, "olga")
    page.goto(f"{base}{reverse('portal:project_manage', args=[project.slug])}")
    page.get_by_role("link", name="Brand kit").click()
    expect(page.get_by_role("heading", name="Brand kit", level=1)).to_be_visible()
    page.wait_for_load_state("load")  # htmx has wired the fields (deferred script)
    terms = page.get_by_label("Banned terms")
    terms.press_sequentially("Kite → glider")  # typed: each keystroke is an input event
    expect(page.locator("#check-banned_terms")).to_contain_text(
        "1 banned term(s), written correctly.")
    disclaimers = page.get_by_label("Disclaimers")
    disclaimers.press_sequentially("Results vary. | regex:(?=kite)")
    expect(page.locator("#check-disclaimers")).to_contain_text("Line 1: the pattern")
    expect(page.locator("#check-disclaimers")).to_contain_text("lookahead")
    disclaimers.fill("")
    page.get_by_role("button", name="Save brand kit").click()
    expect(page.locator("#kit-saved")).to_contain_text("Banned “Kite”.")
    expect(page.locator("#kit-saved")).to_contain_text("New assets are checked with this")
    assert kit_for(project).banned_terms == [{"term": "Kite", "alternatives": ["glider"]}]

    after = generate_checked(users["creator"], project, capture, product="Kite")
    assert _banned(after).status != "pass"
    page.goto(f"{base}{reverse('portal:review', args=[_review(after)])}")
    expect(page.locator(".review-findings")).to_contain_text("“Kite” is a banned term")
    expect(page.locator(".review-findings")).to_contain_text("glider")
    page.goto(f"{base}{reverse('portal:review', args=[_review(before)])}")
    expect(page.locator(".review-findings")).not_to_contain_text("is a banned term")
