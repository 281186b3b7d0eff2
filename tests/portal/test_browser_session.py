"""Signing out in one tab while another tab's job card is polling: the card must not fill
with the sign-in page; the page says the session ended, links to sign in, and stops
polling."""

from __future__ import annotations

import pytest

from assay.generation.services import submit_generation
from tests.conftest import make_template
from tests.portal.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signing_out_in_another_tab_stops_the_polling_card(page, live_server, users, project,
                                                           no_broker):
    from playwright.sync_api import expect

    make_template(project, users["owner"])
    job = submit_generation(users["creator"], project=project, template="blurb",
                            variables={"product": "Kite"})
    base = live_server.url
    sign_in(page, base, "cara")
    page.goto(f"{base}/jobs/{job.pk}/")
    card = page.locator("#job-status")
    expect(card).to_have_attribute("data-status", "queued")  # not terminal: it polls
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/status/" in r.url else None)
    page.wait_for_timeout(1500)
    assert polls, "the card was not polling"

    other = page.context.new_page()  # a second tab, same cookies
    other.goto(f"{base}/")
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_load_state()

    banner = page.locator("#session-ended")
    expect(banner).to_contain_text("Your session ended.", timeout=5000)
    link = banner.get_by_role("link", name="Sign in again")
    expect(link).to_have_attribute("href", f"/login/?next=%2Fjobs%2F{job.pk}%2F")
    expect(page.locator("#job-status form#login-form, #job-status input[type=password]")
           ).to_have_count(0)
    expect(page.locator("#job-status")).to_have_count(1)
    expect(page.locator("#job-status")).not_to_contain_text("Password")
    seen = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == seen, "the card kept polling after the session ended"

    link.click()
    page.wait_for_url(f"{base}/login/?next=%2Fjobs%2F{job.pk}%2F")
    page.get_by_label("Username").fill("cara")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/jobs/{job.pk}/")
