"""Phone widths: at 375 × 800 no page scrolls sideways; tables reflow into one card per
row, each cell under its column's name."""

from __future__ import annotations

import re

import pytest

from assay.accounts.services import create_token
from tests.conftest import generate_checked
from tests.portal.conftest import TIMEOUT_MS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 375


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": 800}, is_mobile=True,
                                  device_scale_factor=2)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def overflow(page) -> dict:
    """The page's scroll width, and the elements that stick out past the viewport."""
    return page.evaluate("""(width) => {
        const wide = [];
        for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 0.5) {
                wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                          + (el.className && typeof el.className === 'string'
                             ? '.' + el.className.split(' ').join('.') : ''));
            }
        }
        return {scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 8)};
    }""", WIDTH)


def test_no_page_scrolls_sideways_at_375_px(phone, live_server, users, project, template,
                                            django_capture_on_commit_callbacks):
    from playwright.sync_api import expect

    asset = generate_checked(users["creator"], project, django_capture_on_commit_callbacks,
                             product="the Kite 3000 ultra-long-product-name-without-breaks")
    create_token(users["reviewer"], by=users["reviewer"], name="CI pipeline", scope="read",
                 days=30)
    base = live_server.url
    pages = {
        "creator": ["/", f"/projects/{project.slug}/", f"/jobs/{asset.job_id}/", "/tokens/"],
        "reviewer": ["/reviews/", "/tokens/", "/verify/"],
    }
    problems = {}
    for username, user in (("cara", "creator"), ("rui", "reviewer")):
        phone.context.clear_cookies()
        sign_in(phone, base, username)
        for path in pages[user]:
            phone.goto(f"{base}{path}")
            phone.wait_for_load_state("networkidle")
            seen = overflow(phone)
            if seen["scroll"] > WIDTH:
                problems[f"{username} {path}"] = seen
    assert not problems, problems

    # Tables reflow: the project's job list is one card per row, cells labelled.
    phone.context.clear_cookies()
    sign_in(phone, base, "cara")
    phone.goto(f"{base}/projects/{project.slug}/")
    cell = phone.locator("table.table tbody td").first
    expect(cell).to_have_attribute("data-label", re.compile(r"\w"))
    assert phone.evaluate("getComputedStyle(document.querySelector('table.table tbody tr'))"
                          ".display") == "block"
    phone.screenshot(path="/tmp/assay-phone-project.png", full_page=True)
