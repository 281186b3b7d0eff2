"""A platform admin in a real browser: revokes another user's API token from the admin
screen, then reads why a broken plugin did not load (its error folded under Details)."""

from __future__ import annotations

import pytest

from assay.accounts.services import create_token
from assay.plugins.manager import reset_plugins
from tests.portal.admin_helpers import BROKEN_MESSAGE, install_broken_plugin
from tests.portal.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broken_plugin(tmp_path, monkeypatch, settings):
    install_broken_plugin(tmp_path, monkeypatch, settings)
    yield
    reset_plugins()


def test_admin_revokes_a_token_and_sees_plugin_errors(page, live_server, users,
                                                      broken_plugin):
    from playwright.sync_api import expect

    token, _ = create_token(users["creator"], name="ci pipeline", scope="write", days=30)
    create_token(users["reviewer"], name="reports", scope="read", days=30)
    base = live_server.url
    sign_in(page, base, "adam")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Admin", level=1)).to_be_visible()

    page.get_by_role("link", name="API tokens").last.click()
    expect(page.get_by_role("heading", name="Everyone's API tokens")).to_be_visible()
    page.get_by_label("User").select_option("cara")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("#admin-token-list tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text("ci pipeline")
    row.get_by_label("Reason for revoking ci pipeline of cara").fill("laptop lost")
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked “ci pipeline” of cara")
    assert "user=cara" in page.url  # the filter is kept
    expect(page.locator(f'tr[data-token="{token.pk}"]')).to_contain_text("revoked")
    expect(page.locator(f'tr[data-token="{token.pk}"]').get_by_role("button")).to_have_count(0)
    token.refresh_from_db()
    assert token.revoked_at is not None

    page.get_by_role("link", name="Admin").first.click()
    page.get_by_role("link", name="Plugins").click()
    expect(page.locator("#plugins-failed")).to_contain_text("1 plugin could not be loaded")
    broken = page.locator('tr[data-plugin-state="failed"]')
    expect(broken).to_contain_text("Admin broken")
    expect(broken).to_contain_text("its code stopped with an error")
    error = broken.locator(".plugin-error")
    expect(error).not_to_be_visible()  # folded away
    broken.locator("summary").click()
    expect(error).to_be_visible()
    expect(error).to_contain_text(BROKEN_MESSAGE)
    page.screenshot(path="/tmp/assay-admin-plugins.png", full_page=True)
