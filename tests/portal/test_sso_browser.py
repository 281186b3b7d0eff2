"""Single sign-on in Chromium against the real provider (panva's oidc-provider).

A person clicks "Sign in with Test IdP", signs in at the provider's own form and lands in
Assay with the roles their groups map to; the provider disabling them stops the next
sign-in; local accounts keep signing in beside it.
"""

from __future__ import annotations

import re

import pytest

from assay.accounts.models import User
from assay.studio.models import Membership
from tests.portal.conftest import sign_in
from tests.portal.sso_provider import oidc_provider, sso

__all__ = ["oidc_provider", "sso"]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sso_sign_in(page, base: str, login: str, password: str = "s3cret") -> None:
    page.goto(f"{base}/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.get_by_label("Login").fill(login)
    page.get_by_label("Secret").fill(password)
    page.get_by_role("button", name="Continue").click()


def test_first_sign_in_creates_the_user_and_a_group_change_updates_roles(
        page, live_server, sso, project):
    from playwright.sync_api import expect

    base = live_server.url
    sso.set_account("mia", groups=["marketing"])
    sso_sign_in(page, base, "mia")
    page.wait_for_url(f"{base}/")
    expect(page.get_by_role("banner")).to_contain_text("mia")
    expect(page.get_by_role("link", name="Launch")).to_be_visible()
    mia = User.objects.get(username="mia")
    assert Membership.objects.get(user=mia, project=project).role == "creator"

    sso.set_account("mia", groups=["launch-owners", "assay-auditors"])
    page.context.clear_cookies()
    sso_sign_in(page, base, "mia")
    page.wait_for_url(f"{base}/")
    mia.refresh_from_db()
    assert mia.global_role == "auditor"
    assert Membership.objects.get(user=mia, project=project).role == "owner"


def test_the_provider_disabling_an_account_blocks_the_next_sign_in(page, live_server, sso,
                                                                   project):
    from playwright.sync_api import expect

    base = live_server.url
    sso.set_account("dora", groups=["marketing"])
    sso_sign_in(page, base, "dora")
    page.wait_for_url(f"{base}/")

    sso.set_account("dora", groups=["marketing"], disabled=True)
    page.context.clear_cookies()
    sso_sign_in(page, base, "dora")
    expect(page.get_by_role("alert")).to_have_text("This account is disabled.")
    assert not page.url.startswith(base)


def test_leaving_every_group_is_refused_in_words(page, live_server, sso, project):
    from playwright.sync_api import expect

    base = live_server.url
    sso.set_account("ned", groups=["kitchen"])
    sso_sign_in(page, base, "ned")
    page.wait_for_url(re.compile(re.escape(f"{base}/oidc/callback/")))
    expect(page.get_by_role("alert")).to_contain_text("in no group that gives access")
    expect(page.get_by_label("Username")).to_be_visible()  # local sign-in is still offered


def test_local_accounts_still_sign_in_and_cannot_use_a_provider_users_name(
        page, live_server, sso, users):
    from playwright.sync_api import expect

    base = live_server.url
    sign_in(page, base, "cara")
    expect(page.get_by_role("banner")).to_contain_text("cara")

    # a provider user has no local password: the local form refuses every guess
    sso.set_account("pia", groups=["marketing"])
    page.context.clear_cookies()
    sso_sign_in(page, base, "pia")
    page.wait_for_url(f"{base}/")
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("pia")
    page.get_by_label("Password").fill("s3cret")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.url.startswith(f"{base}/login/")
