"""In Chromium: an owner adds a member and changes a role; an invitee accepts a link."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from assay.studio.models import Membership
from tests.portal.conftest import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_owner_adds_a_member_and_changes_their_role(live_server, page, users, project):
    sign_in(page, live_server.url, "olga")
    page.goto(f"{live_server.url}/projects/{project.slug}/manage/")
    page.get_by_role("link", name="Members and invitations").click()
    page.get_by_label("Username or e-mail").fill("otto")
    page.locator("#add-role").select_option("creator")
    page.get_by_role("button", name="Add member").click()
    row = page.locator("tr[data-member='otto']")
    row.get_by_role("combobox").select_option("reviewer")
    row.get_by_role("button", name="Change role").click()
    page.wait_for_selector("text=otto is now reviewer")
    assert Membership.objects.get(project=project, user=users["outsider"]).role == "reviewer"


def test_invitee_signs_up_at_the_link(live_server, page, users, project, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sign_in(page, live_server.url, "olga")
    page.goto(f"{live_server.url}/projects/{project.slug}/members/")
    page.get_by_label("E-mail", exact=True).fill("new@example.com")
    page.locator("#invite-role").select_option("creator")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_selector("text=Invitation sent")
    link = re.search(r"http\S+/invitations/[\w-]+/", mail.outbox[-1].body).group(0)
    page.context.clear_cookies()
    page.goto(link)
    page.get_by_label("Username", exact=True).fill("newbie")
    page.get_by_label("Password").fill("a-long-pass-phrase-42")
    page.get_by_role("button", name="Create account and join").click()
    page.wait_for_url(f"{live_server.url}/projects/{project.slug}/")
    assert Membership.objects.get(project=project, user__username="newbie").role == "creator"
