"""API tokens: one service behind the command, REST and the portal; scopes, revocation with
immediate effect, who may see and revoke which token, and the audit events."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assay.accounts.models import APIToken
from assay.accounts.services import create_token, revoke_token
from assay.audit.models import AuditEvent
from assay.audit.testing import every_change_audited
from assay.core.exceptions import Conflict, InvalidInput, NotFound, NotPermitted
from tests.conftest import race

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def signed_in(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# -- the service ---------------------------------------------------------------------------
def test_create_token_stores_a_digest_and_records_one_event_without_the_secret(users):
    with every_change_audited():
        token, raw = create_token(users["creator"], name="ci", scope="read", days=7)
    assert raw.startswith("asy_") and token.digest != raw and token.prefix == raw[:10]
    assert token.scope == "read" and token.status == "active"
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)
    (event,) = events("accounts.token.created")
    assert event.target_id == str(token.pk)
    assert event.data["user"] == "cara" and event.data["scope"] == "read"
    assert event.data["days"] == 7 and event.data["name"] == "ci"
    assert raw not in str(event.data) and token.digest not in str(event.data)


@pytest.mark.parametrize("kwargs,field", [
    ({"scope": "admin"}, "scope"),
    ({"days": 0}, "days"),
    ({"days": 367}, "days"),
    ({"days": True}, "days"),
    ({"name": "  "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "a\x00b"}, "name"),
])
def test_create_token_refuses_bad_values_and_stores_nothing(users, kwargs, field):
    values = {"name": "ci", "scope": "write", "days": 30, **kwargs}
    with pytest.raises(InvalidInput) as refused:
        create_token(users["creator"], **values)
    assert field in refused.value.errors
    assert not APIToken.objects.exists() and not events("accounts.token.created")


def test_only_the_owner_or_an_admin_creates_a_users_token(users):
    with pytest.raises(NotPermitted):
        create_token(users["creator"], name="x", scope="read", by=users["outsider"])
    token, _ = create_token(users["creator"], name="x", scope="read", by=users["admin"])
    assert token.user == users["creator"]
    assert events("accounts.token.created")[0].actor_display == "adam"


def test_revoke_is_scoped_audited_and_refused_twice(users):
    token, _ = create_token(users["creator"], name="ci", scope="write")
    with pytest.raises(NotFound):
        revoke_token(token.pk, by=users["outsider"])
    with pytest.raises(NotFound):
        revoke_token("not-a-number", by=users["creator"])
    with every_change_audited():
        revoke_token(token.pk, by=users["creator"], reason="leaked in a log")
    token.refresh_from_db()
    assert token.revoked_at is not None and token.status == "revoked"
    (event,) = events("accounts.token.revoked")
    assert event.reason == "leaked in a log" and event.actor_display == "cara"
    assert event.data == {"user": "cara", "name": "ci", "scope": "write", "was": "active"}
    with pytest.raises(Conflict, match="already revoked"):
        revoke_token(token.pk, by=users["admin"])
    assert len(events("accounts.token.revoked")) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_revocations_write_one_event(users, require_postgres):
    token, _ = create_token(users["creator"], name="ci", scope="write")

    def revoke() -> str:
        try:
            revoke_token(token.pk, by=users["creator"])
        except Conflict:
            return "conflict"
        return "revoked"

    outcomes = race(4, revoke)
    assert sorted(outcomes) == ["conflict"] * 3 + ["revoked"]
    assert len(events("accounts.token.revoked")) == 1


# -- authentication: scopes, revocation and expiry take effect at once ---------------------
def test_a_read_token_reads_but_every_write_is_a_403_in_words(users, project):
    _, raw = create_token(users["creator"], name="dash", scope="read")
    client = bearer(raw)
    assert client.get("/api/v1/projects/").status_code == 200
    for method, path in (("post", "/api/v1/generations/"), ("post", "/api/v1/tokens/"),
                         ("put", "/api/v1/projects/launch/quotas/"),
                         ("delete", "/api/v1/projects/launch/")):
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 403, (method, path, response.content)
        body = response.json()
        assert body["code"] == "permission_denied" and "read-only" in body["detail"]
    assert APIToken.objects.count() == 1


def test_a_write_token_may_write(users, project):
    _, raw = create_token(users["creator"], name="ci", scope="write")
    response = bearer(raw).post("/api/v1/tokens/", {"name": "child", "scope": "read",
                                                    "days": 30}, format="json")
    assert response.status_code == 201, response.json()


def test_revoked_and_expired_tokens_are_refused_on_the_next_call(users):
    token, raw = create_token(users["creator"], name="ci", scope="write")
    client = bearer(raw)
    assert client.get("/api/v1/tokens/").status_code == 200
    revoked = client.post(f"/api/v1/tokens/{token.pk}/revoke/", {}, format="json")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = client.get("/api/v1/tokens/")
    assert again.status_code == 401 and "revoked" in again.json()["detail"]

    other, raw2 = create_token(users["creator"], name="old", scope="read", days=1)
    APIToken.objects.filter(pk=other.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = bearer(raw2).get("/api/v1/tokens/")
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_last_use_is_stamped(users):
    token, raw = create_token(users["creator"], name="ci", scope="read")
    assert token.last_used_at is None
    bearer(raw).get("/api/v1/tokens/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_cannot_mint_a_token_that_outlives_it(users):
    _, raw = create_token(users["creator"], name="short", scope="write", days=10)
    client = bearer(raw)
    longer = client.post("/api/v1/tokens/", {"name": "long", "scope": "write", "days": 366},
                         format="json")
    assert longer.status_code == 400 and "outlives" in longer.json()["detail"]
    assert longer.json()["errors"]["days"]
    shorter = client.post("/api/v1/tokens/", {"name": "ok", "scope": "write", "days": 5},
                          format="json")
    assert shorter.status_code == 201
    assert APIToken.objects.count() == 2


# -- REST ----------------------------------------------------------------------------------
def test_rest_create_shows_the_secret_once_and_it_works(users):
    response = signed_in(users["creator"]).post(
        "/api/v1/tokens/", {"name": "laptop", "scope": "read", "days": 30}, format="json")
    assert response.status_code == 201, response.json()
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token"].startswith(body["prefix"]) and body["scope"] == "read"
    assert body["user"] == "cara" and body["status"] == "active" and "digest" not in body
    listed = bearer(body["token"]).get("/api/v1/tokens/").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert "token" not in listed["results"][0]
    assert bearer(body["token"]).get(f"/api/v1/tokens/{body['id']}/").json()["name"] == "laptop"


def test_rest_create_defaults_to_90_days(users):
    response = signed_in(users["creator"]).post("/api/v1/tokens/",
                                                {"name": "x", "scope": "write"}, format="json")
    assert response.status_code == 201
    token = APIToken.objects.get()
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)


@pytest.mark.parametrize("body,field", [
    ([], "non_field_errors"),
    ("name", "non_field_errors"),
    ({"name": "x", "scope": "read", "owner": "adam"}, "owner"),
    ({"scope": "read"}, "name"),
    ({"name": "x"}, "scope"),
    ({"name": "x", "scope": ["read"]}, "scope"),
    ({"name": "x", "scope": "root"}, "scope"),
    ({"name": True, "scope": "read"}, "name"),
    ({"name": "x" * 101, "scope": "read"}, "name"),
    ({"name": "x", "scope": "read", "days": "30"}, "days"),
    ({"name": "x", "scope": "read", "days": 30.5}, "days"),
    ({"name": "x", "scope": "read", "days": 0}, "days"),
])
def test_rest_create_refuses_bad_bodies_with_a_400_and_stores_nothing(users, body, field):
    response = signed_in(users["creator"]).post("/api/v1/tokens/", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "invalid" and field in error["errors"], error
    assert not APIToken.objects.exists()


@pytest.mark.parametrize("body", [{"name": "a\u0000b", "scope": "read"},
                                  {"name": "x", "scope": "read", "days": 10**30}])
def test_rest_create_refuses_unstorable_json_before_any_field(users, body):
    response = signed_in(users["creator"]).post("/api/v1/tokens/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    assert not APIToken.objects.exists()


def test_rest_list_shows_your_own_tokens_and_admins_see_everyones(users):
    mine, _ = create_token(users["creator"], name="mine", scope="read")
    theirs, _ = create_token(users["reviewer"], name="theirs", scope="write")
    own = signed_in(users["creator"]).get("/api/v1/tokens/").json()["results"]
    assert [row["id"] for row in own] == [mine.pk]
    assert signed_in(users["outsider"]).get("/api/v1/tokens/").json()["results"] == []
    # auditors read every project's records, but not other people's credentials
    assert signed_in(users["auditor"]).get("/api/v1/tokens/").json()["results"] == []
    assert signed_in(users["auditor"]).get(f"/api/v1/tokens/{mine.pk}/").status_code == 404
    assert signed_in(users["creator"]).get(f"/api/v1/tokens/{theirs.pk}/").status_code == 404
    everyone = signed_in(users["admin"]).get("/api/v1/tokens/").json()["results"]
    assert {row["id"] for row in everyone} == {mine.pk, theirs.pk}
    one = signed_in(users["admin"]).get("/api/v1/tokens/?user=rui").json()["results"]
    assert [row["id"] for row in one] == [theirs.pk]
    # ?user= never widens what a non-admin sees
    assert signed_in(users["creator"]).get("/api/v1/tokens/?user=rui").json()["results"] == []


def test_rest_list_filters_by_status_and_refuses_an_unknown_one(users):
    active, _ = create_token(users["creator"], name="a", scope="read")
    gone, _ = create_token(users["creator"], name="b", scope="read")
    revoke_token(gone.pk)
    client = signed_in(users["creator"])
    assert [r["id"] for r in client.get("/api/v1/tokens/?status=active").json()["results"]] == [
        active.pk]
    assert [r["id"] for r in client.get("/api/v1/tokens/?status=revoked").json()["results"]] == [
        gone.pk]
    assert client.get("/api/v1/tokens/?status=lost").status_code == 400


def test_rest_list_query_count_does_not_grow_with_tokens(users):
    client = signed_in(users["admin"])
    create_token(users["creator"], name="t0", scope="read")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/tokens/").status_code == 200
    for number in range(1, 8):
        create_token(users["reviewer" if number % 2 else "creator"], name=f"t{number}",
                     scope="read")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/tokens/").json()["results"]) == 8
    assert len(many) == len(few)


def test_rest_revoke_permissions(users):
    token, raw = create_token(users["creator"], name="ci", scope="write")
    path = f"/api/v1/tokens/{token.pk}/revoke/"
    assert APIClient().post(path, {}, format="json").status_code == 401
    assert signed_in(users["outsider"]).post(path, {}, format="json").status_code == 404
    assert signed_in(users["reviewer"]).post(path, {}, format="json").status_code == 404
    assert signed_in(users["creator"]).post(path, {"reason": 5}, format="json").status_code == 400
    assert signed_in(users["creator"]).post(path, [], format="json").status_code == 400
    token.refresh_from_db()
    assert token.revoked_at is None and not events("accounts.token.revoked")

    response = signed_in(users["admin"]).post(path, {"reason": "offboarding"}, format="json")
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert events("accounts.token.revoked")[0].actor_display == "adam"
    twice = signed_in(users["admin"]).post(path, {}, format="json")
    assert twice.status_code == 409 and "already revoked" in twice.json()["detail"]
    assert bearer(raw).get("/api/v1/tokens/").status_code == 401


def test_rest_revoke_takes_an_empty_body(users):
    token, _ = create_token(users["creator"], name="ci", scope="write")
    response = signed_in(users["creator"]).post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert response.status_code == 200 and response.json()["status"] == "revoked"


@pytest.mark.parametrize("suffix", ["abc/revoke/", "99999999999999999999999/revoke/",
                                    "0/revoke/", "1.json"])
def test_rest_odd_ids_are_404s(users, suffix):
    assert signed_in(users["creator"]).post(f"/api/v1/tokens/{suffix}", {},
                                            format="json").status_code == 404


def test_rest_needs_credentials(db):
    assert APIClient().get("/api/v1/tokens/").status_code == 401
    assert APIClient().post("/api/v1/tokens/", {"name": "x", "scope": "read"},
                            format="json").status_code == 401


# -- the commands --------------------------------------------------------------------------
def test_commands_issue_list_and_revoke(users):
    out, err = StringIO(), StringIO()
    call_command("issue_token", "cara", "--name", "deploy", "--scope", "read", "--days", "3",
                 stdout=out, stderr=err)
    raw = out.getvalue().strip()
    token = APIToken.objects.get()
    assert raw.startswith(token.prefix) and token.scope == "read" and token.name == "deploy"
    assert events("accounts.token.created")[0].actor_display == "system:cli"

    listing = StringIO()
    call_command("list_tokens", "cara", stdout=listing)
    assert "deploy" in listing.getvalue() and "read" in listing.getvalue()
    assert raw not in listing.getvalue()

    done = StringIO()
    call_command("revoke_token", str(token.pk), "--reason", "rotated", stdout=done)
    assert "revoked" in done.getvalue()
    (event,) = events("accounts.token.revoked")
    assert event.actor_display == "system:cli" and event.reason == "rotated"
    assert bearer(raw).get("/api/v1/tokens/").status_code == 401

    active = StringIO()
    call_command("list_tokens", "--active", stdout=active)
    assert active.getvalue() == ""
    with pytest.raises(CommandError, match="already revoked"):
        call_command("revoke_token", str(token.pk))
    with pytest.raises(CommandError, match="No API token"):
        call_command("revoke_token", "424242")


def test_issue_token_keeps_write_as_its_default_scope(users):
    call_command("issue_token", "cara", stdout=StringIO(), stderr=StringIO())
    assert APIToken.objects.get().scope == "write"


def test_issue_token_refuses_a_bad_lifetime(users):
    with pytest.raises(CommandError, match="between 1 and 366"):
        call_command("issue_token", "cara", "--days", "0", stdout=StringIO(), stderr=StringIO())
    assert not APIToken.objects.exists()


# -- the portal page -----------------------------------------------------------------------
def test_portal_tokens_page_needs_a_sign_in(client):
    response = client.get(reverse("portal:tokens"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_portal_nav_links_the_tokens_page(client, users):
    client.force_login(users["creator"])
    page = client.get(reverse("portal:home")).content.decode()
    assert f'href="{reverse("portal:tokens")}"' in page and "API tokens" in page


def test_portal_create_shows_the_secret_once(client, users):
    client.force_login(users["creator"])
    response = client.post(reverse("portal:tokens"), {"name": "laptop", "scope": "read",
                                                       "days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = APIToken.objects.get()
    secret = response.context["created"]["secret"]
    page = response.content.decode()
    assert secret in page and "shown this once" in page
    assert token.digest != secret and token.scope == "read" and token.user == users["creator"]
    later = client.get(reverse("portal:tokens")).content.decode()
    assert secret not in later and "laptop" in later and token.prefix in later
    assert bearer(secret).get("/api/v1/tokens/").status_code == 200


def test_portal_create_shows_the_services_refusal_and_stores_nothing(client, users):
    client.force_login(users["creator"])
    response = client.post(reverse("portal:tokens"), {"name": "x", "scope": "read",
                                                       "days": "400"})
    assert response.status_code == 400 and response.context["form"].errors["days"]
    response = client.post(reverse("portal:tokens"), {"name": "x", "scope": "root",
                                                       "days": "3"})
    assert response.context["form"].errors["scope"]
    assert not APIToken.objects.exists()


def test_portal_lists_own_tokens_and_admins_see_everyones(client, users):
    mine, _ = create_token(users["creator"], name="my-token", scope="read")
    create_token(users["reviewer"], name="their-token", scope="write")
    client.force_login(users["creator"])
    page = client.get(reverse("portal:tokens")).content.decode()
    assert "my-token" in page and "their-token" not in page
    client.force_login(users["admin"])
    page = client.get(reverse("portal:tokens")).content.decode()
    assert "my-token" in page and "their-token" in page and "All tokens" in page


def test_portal_revoke(client, users):
    token, raw = create_token(users["creator"], name="ci", scope="write")
    path = reverse("portal:token_revoke", args=[token.pk])
    client.force_login(users["outsider"])
    assert client.post(path).status_code == 404
    client.force_login(users["creator"])
    assert client.get(path).status_code == 405
    response = client.post(path, {"reason": "done"}, follow=True)
    assert response.status_code == 200 and "refused from now on" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert events("accounts.token.revoked")[0].reason == "done"
    assert bearer(raw).get("/api/v1/tokens/").status_code == 401
    again = client.post(path, follow=True)
    assert "already revoked" in again.content.decode()
    assert len(events("accounts.token.revoked")) == 1


def test_portal_admin_revokes_anyones_token(client, users):
    token, _ = create_token(users["creator"], name="ci", scope="write")
    client.force_login(users["admin"])
    client.post(reverse("portal:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_portal_huge_ids_are_404s(client, users):
    client.force_login(users["creator"])
    assert client.post("/tokens/99999999999999999999999/revoke/").status_code == 404
