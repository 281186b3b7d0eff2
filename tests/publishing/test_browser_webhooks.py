"""An owner sets up a webhook in Chromium: adds the address (the secret shown once),
sends a test message to a real receiver and reads its answer in the delivery log."""

from __future__ import annotations

from unittest import mock

import pytest

from governance.publishing import delivery as deliveries
from tests.portal.conftest import browser, page, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_a_webhook_and_sends_a_test_message(page, live_server, users,  # noqa: F811
                                                       project, receiver):
    from playwright.sync_api import expect

    base = live_server.url
    sign_in(page, base, "olga")
    page.goto(f"{base}/projects/{project.slug}/manage/")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    page.get_by_role("textbox", name="Name").fill("Website CMS")
    page.get_by_role("textbox", name="Address").fill(receiver.url)
    page.get_by_role("button", name="Add address").click()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    receiver.secret = secret
    page.get_by_role("link", name="Change, test, see deliveries").click()
    expect(page.get_by_role("heading", name="Website CMS")).to_be_visible()
    assert secret not in page.content()

    # the worker's part, run in this process as soon as the ping commits
    with mock.patch("governance.publishing.services.queue_delivery",
                    side_effect=lambda pk, _cid: deliveries.attempt(pk)):
        page.get_by_role("button", name="Send a test message").click()
        expect(page.get_by_text("Test ping sent")).to_be_visible()
    page.reload()
    log = page.locator("#delivery-log")
    expect(log).to_contain_text("Test ping")
    expect(log).to_contain_text("Delivered")
    expect(log).to_contain_text("200")
    assert receiver.verified == [True]
    page.get_by_label("Turned on").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("it is turned off")).to_be_visible()
