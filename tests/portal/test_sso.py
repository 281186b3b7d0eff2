"""Single sign-on against a real provider, over HTTP: mapping, refusals, routes.

The provider is panva's oidc-provider (tests/portal/sso_provider.py); Assay's side runs
through the Django test client on the live server's host name, so the redirect URI it
sends is the one the provider has registered and the token endpoint is the real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any
from urllib.parse import urlparse

import pytest
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory

from assay.accounts.choices import GlobalRole
from assay.accounts.models import ExternalIdentity, ProviderMembership, User
from assay.accounts.oidc import map_groups
from assay.audit.models import AuditEvent
from assay.studio.models import Membership
from tests.portal.sso_provider import ROLE_MAP, oidc_provider, provider_round_trip, sso

__all__ = ["oidc_provider", "sso"]
pytestmark = pytest.mark.django_db(transaction=True)


def rp_client(live_server: Any) -> Client:
    return Client(HTTP_HOST=urlparse(live_server.url).netloc)


def sign_in_via_provider(client: Client, login: str, password: str = "s3cret") -> Any:
    """Start at Assay, sign in at the provider, come back: Assay's answer."""
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302, start.content
    callback, query, provider_page = provider_round_trip(start["Location"], login, password)
    if not callback:
        return provider_page
    return client.get("/oidc/callback/", query)


def test_the_map_takes_the_highest_role():
    mapping = map_groups(["marketing", "launch-owners", "assay-auditors", "other"], ROLE_MAP)
    assert mapping.global_role == GlobalRole.AUDITOR
    assert mapping.projects == {"launch": "owner"}
    assert mapping.mapped_groups == ["marketing", "launch-owners", "assay-auditors"]
    assert map_groups(["other"], ROLE_MAP).mapped_groups == []


def test_first_sign_in_creates_the_user_then_groups_update_roles(sso, live_server, project):
    sso.set_account("mia", groups=["marketing"])
    client = rp_client(live_server)
    response = sign_in_via_provider(client, "mia")
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(username="mia")
    assert user.email == "mia@example.com" and not user.has_usable_password()
    assert ExternalIdentity.objects.get(user=user).subject == "sub-mia"
    assert Membership.objects.get(user=user, project=project).role == "creator"
    assert client.get("/").status_code == 200
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"accounts.provider.linked", "accounts.provider.synced", "accounts.user.created",
            "studio.membership.granted", "accounts.user.logged_in"} <= actions

    # when the provider's groups change, the next sign-in follows them
    sso.set_account("mia", groups=["launch-owners", "assay-admins"])
    response = sign_in_via_provider(rp_client(live_server), "mia")
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.global_role == "admin" and user.is_superuser
    assert Membership.objects.get(user=user, project=project).role == "owner"

    # leaving the global group takes the global role away again
    sso.set_account("mia", groups=["marketing"])
    assert sign_in_via_provider(rp_client(live_server), "mia").status_code == 302
    user.refresh_from_db()
    assert user.global_role == "" and not user.is_superuser


def test_a_hand_granted_role_is_left_alone(sso, live_server, project, users):
    sso.set_account("olga", groups=["marketing"])  # a local "olga" (owner) exists already
    response = sign_in_via_provider(rp_client(live_server), "olga")
    assert response.status_code == 403
    assert "exists already and is not linked" in response.content.decode()

    sso.set_account("lee", groups=["marketing"])
    sign_in_via_provider(rp_client(live_server), "lee")
    lee = User.objects.get(username="lee")
    membership = Membership.objects.get(user=lee, project=project)
    ProviderMembership.objects.filter(membership=membership).delete()  # now "by hand"
    membership.role = "reviewer"
    membership.save()
    sso.set_account("lee", groups=["assay-auditors"])
    assert sign_in_via_provider(rp_client(live_server), "lee").status_code == 302
    assert Membership.objects.get(user=lee, project=project).role == "reviewer"


def test_leaving_every_mapped_group_refuses_and_removes_roles(sso, live_server, project):
    sso.set_account("ned", groups=["marketing"])
    assert sign_in_via_provider(rp_client(live_server), "ned").status_code == 302
    sso.set_account("ned", groups=["kitchen"])
    response = sign_in_via_provider(rp_client(live_server), "ned")
    assert response.status_code == 403
    assert "in no group that gives access" in response.content.decode()
    assert not Membership.objects.filter(user__username="ned").exists()
    assert AuditEvent.objects.filter(action="accounts.provider.membership_removed").exists()
    assert AuditEvent.objects.filter(action="accounts.provider.refused").exists()


def test_an_unmapped_first_sign_in_creates_nobody(sso, live_server):
    sso.set_account("zed", groups=["kitchen"])
    assert sign_in_via_provider(rp_client(live_server), "zed").status_code == 403
    assert not User.objects.filter(username="zed").exists()


def test_a_disabled_or_removed_account_cannot_sign_in(sso, live_server, project):
    sso.set_account("dora", groups=["marketing"])
    assert sign_in_via_provider(rp_client(live_server), "dora").status_code == 302
    sso.set_account("dora", groups=["marketing"], disabled=True)
    page = sign_in_via_provider(rp_client(live_server), "dora")
    assert page.status_code == 200 and "This account is disabled." in page.text
    assert not User.objects.get(username="dora").has_usable_password()
    dora = User.objects.get(username="dora")
    dora.set_password("local-guess")  # even a password set by hand does not let her in
    dora.save()
    request = RequestFactory().post("/login/")
    assert authenticate(request, username="dora", password="local-guess") is None
    # removed after the provider issued the code: the token endpoint refuses it
    sso.set_account("dora", groups=["marketing"])
    client = rp_client(live_server)
    start = client.get("/oidc/authenticate/")
    _callback, query, _page = provider_round_trip(start["Location"], "dora")
    sso.remove_account("dora")
    response = client.get("/oidc/callback/", query)
    assert response.status_code == 403
    assert "refused the sign-in" in response.content.decode()


def test_the_callback_refuses_a_forged_state_or_nonce(sso, live_server):
    client = rp_client(live_server)
    assert client.get("/oidc/callback/").status_code == 400
    forged = client.get("/oidc/callback/", {"code": "x", "state": "forged"})
    assert forged.status_code == 400
    assert "not started in this browser" in forged.content.decode()

    sso.set_account("nia", groups=["marketing"])
    start = client.get("/oidc/authenticate/")
    _callback, query, _page = provider_round_trip(start["Location"], "nia")
    session = client.session
    session["oidc_states"][query["state"]]["nonce"] = "not-the-nonce-sent"
    session.save()
    response = client.get("/oidc/callback/", query)
    assert response.status_code == 400
    assert "did not match this sign-in" in response.content.decode()
    assert not User.objects.filter(username="nia").exists()


def test_the_sso_routes_answer_each_role(sso, live_server, users):
    for role, user in [("anon", None), *users.items()]:
        client = rp_client(live_server)
        if user is not None:
            client.force_login(user)
        start = client.get("/oidc/authenticate/")
        assert start.status_code == 302, role
        assert start["Location"].startswith(f"{sso.issuer}/auth?"), role
        assert client.post("/oidc/authenticate/").status_code == 405, role
        assert client.get("/oidc/callback/").status_code == 400, role
        assert client.post("/oidc/callback/").status_code == 405, role
        assert client.get("/oidc/logout/").status_code == 405, role
        out = client.post("/oidc/logout/")
        assert out.status_code == 302, role
        if user is not None:  # signed out of Assay, then sent to the provider's sign-out
            assert out["Location"].startswith(f"{sso.issuer}/session/end"), role


def test_the_sso_routes_are_404_when_off(client, users):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
    assert client.post("/oidc/logout/").status_code == 404
    assert "Sign in with" not in client.get("/login/").content.decode()


def test_the_sign_in_page_offers_the_provider_without_extra_queries(
        sso, live_server, django_assert_max_num_queries):
    client = rp_client(live_server)
    with django_assert_max_num_queries(0):
        page = client.get("/login/?next=/reviews/").content.decode()
    assert "Sign in with Test IdP" in page
    assert "/oidc/authenticate/?next=/reviews/" in page
    with django_assert_max_num_queries(1):  # the session holding no sign-in state
        refused = client.get("/oidc/callback/", {"code": "x", "state": "y"})
    assert refused.status_code == 400 and "Sign in with Test IdP" in refused.content.decode()


def test_a_bad_role_map_stops_start_up_with_a_sentence():
    env = {**os.environ, "ASSAY_OIDC_ROLE_MAP": '{"assay-admins": "boss"}',
           "DJANGO_SETTINGS_MODULE": "assay.settings"}
    run = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "group 'assay-admins' must map to" in run.stderr
