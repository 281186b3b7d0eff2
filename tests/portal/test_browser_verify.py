"""Anyone signed in verifies a file in a real browser: a signed image, then a signed text
with its sidecar, chosen with the file inputs (Playwright's set_input_files)."""

from __future__ import annotations

import pytest

from tests.portal.conftest import sign_in
from tests.portal.signed_files import (  # noqa: F401 (fixtures)
    signed_png_fixture,
    signed_text_fixture,
    signing_fixture,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_outsider_verifies_a_signed_image_and_a_signed_text(page, live_server, users,
                                                               signed_png, signed_text):
    from playwright.sync_api import expect

    base = live_server.url
    sign_in(page, base, "otto")  # in no project: verifying needs no role
    page.get_by_role("navigation", name="Main").get_by_role("link",
                                                            name="Verify a file").click()
    expect(page.get_by_role("heading", name="Verify a file", level=1)).to_be_visible()

    page.get_by_label("File to check").set_input_files(
        {"name": "kite.png", "mimeType": "image/png", "buffer": signed_png})
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#verdict-state")).to_have_text("Trusted Content Credentials")
    facts = page.locator("#verdict-facts")
    expect(facts).to_contain_text("Yes: made by a generative AI model")
    expect(facts).to_contain_text("sd-turbo")
    expect(page.locator("#verdict-approvals")).to_contain_text("Approved at the “review” stage")
    details = page.locator(".verify-details")
    expect(details.get_by_text("SHA-256")).not_to_be_visible()  # folded away
    details.locator("summary").click()
    expect(details.get_by_text("SHA-256")).to_be_visible()
    page.screenshot(path="/tmp/assay-verify.png", full_page=True)

    text, sidecar = signed_text
    page.get_by_label("File to check").set_input_files(
        {"name": "copy.txt", "mimeType": "text/plain", "buffer": text})
    page.get_by_label("Its Content Credentials file").set_input_files(
        {"name": "copy.c2pa", "mimeType": "application/c2pa", "buffer": sidecar})
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#verdict-state")).to_have_text("Trusted Content Credentials")
    expect(page.locator(".verdict-file")).to_contain_text("copy.txt")

    # The text alone: told, in words, to add its Content Credentials file.
    page.get_by_label("File to check").set_input_files(
        {"name": "copy.txt", "mimeType": "text/plain", "buffer": text})
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#verify-refusal")).to_contain_text("separate .c2pa file")
