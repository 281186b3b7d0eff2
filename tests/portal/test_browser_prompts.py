"""The prompt library in a real browser: an owner writes a version with a try-it preview,
then moves a label and rolls it back."""

from __future__ import annotations

import pytest

from assay.studio.models import PromptLabel
from tests.conftest import make_template
from tests.portal.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_writes_a_version_with_a_preview_then_moves_a_label(page, live_server, users,
                                                                  project):
    from playwright.sync_api import expect

    template = make_template(project, users["owner"])
    base = live_server.url

    # given the owner on the project page
    sign_in(page, base, "olga")
    page.get_by_role("link", name="Launch").click()
    page.get_by_role("link", name="Open in the prompt library").click()
    expect(page.get_by_role("heading", name="Prompt library", level=1)).to_be_visible()
    page.get_by_role("link", name="Blurb").click()
    page.get_by_role("link", name="New version").click()

    # when they change the text and try it with an example value (nothing saved yet)
    expect(page.locator("#id_text")).to_have_value(
        "Write about {{ product }} for {{ audience }}.")
    page.locator("#id_text").fill("Write briefly about {{ product }} for {{ audience }}.")
    page.locator("#id_var-0-description").fill("Product name")
    page.locator("#id_var-0-example").fill("Kite")
    page.get_by_role("button", name="Try it").click()
    preview = page.locator("#try-result")
    expect(preview).to_contain_text("Write briefly about Kite for everyone.")
    assert template.versions.count() == 1
    # a mistake in the text is explained in words, still before saving
    page.locator("#id_text").fill("Write briefly about {{ product")
    page.get_by_role("button", name="Try it").click()
    expect(page.locator("#try-result")).to_contain_text("syntax error on line 1")
    page.locator("#id_text").fill("Write briefly about {{ product }} for {{ audience }}.")
    page.get_by_role("button", name="Save version").click()

    # then version 2 exists and latest follows it
    expect(page.locator("#version-2")).to_be_visible()
    assert PromptLabel.objects.get(template=template, name="latest").version.number == 2

    # when they put a staging label on v2, then roll it back to v1
    page.locator("#new-label-name").fill("staging")
    page.get_by_role("button", name="Put label").click()
    expect(page.get_by_text("The staging label now points at version 2.")).to_be_visible()
    page.get_by_role("button", name="Roll staging back here").click()
    expect(page.get_by_text("The staging label now points at version 1.")).to_be_visible()
    assert PromptLabel.objects.get(template=template, name="staging").version.number == 1
