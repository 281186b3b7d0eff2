"""Audit events: who, what, correlation ids from requests, tokens and sign-in events."""

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from assay.accounts.services import issue_token
from assay.audit import registry
from assay.audit.context import Actor, audit_context
from assay.audit.models import AuditEvent
from assay.audit.services import record

pytestmark = pytest.mark.django_db


def test_unregistered_codes_are_refused(project):
    with pytest.raises(KeyError, match="unregistered audit action"):
        record("studio.nothing.happened", target=project)
    with pytest.raises(ValueError, match="dotted lower case"):
        registry.register("Bad Code", "x", "y")


def test_events_freeze_display_strings_and_find_the_project(project, users):
    with audit_context(actor=Actor.for_user(users["owner"]), correlation_id="corr-12345"):
        event = record("studio.project.created", target=project, reason="because")
    project.name = "Renamed"
    project.save()
    event.refresh_from_db()
    assert event.target_display == "Launch" and event.actor_display == "olga"
    assert event.project_id == project.pk and event.correlation_id == "corr-12345"
    assert event.reason == "because" and event.actor_kind == "user"


def test_request_id_is_carried_into_events_and_echoed(users, template, settings):
    token, raw = issue_token(users["creator"], name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_X_REQUEST_ID="req-abcdef123",
                       HTTP_USER_AGENT="pytest-agent")
    from django.test.utils import CaptureQueriesContext  # noqa: F401

    response = client.post("/api/v1/generations/", {
        "project": "launch", "template": "blurb", "variables": {"product": "Kite"}},
        format="json")
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-abcdef123"
    event = AuditEvent.objects.get(action="studio.generation.submitted")
    assert event.correlation_id == "req-abcdef123"
    assert event.actor_kind == "token" and event.actor_display == f"cara (token {token.prefix})"
    assert event.user_agent == "pytest-agent" and event.ip == "127.0.0.1"


def test_expired_revoked_and_unknown_tokens_get_401(users):
    from django.utils import timezone

    token, raw = issue_token(users["creator"], name="old", days=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/projects/").status_code == 200
    token.expires_at = timezone.now()
    token.save()
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    client.credentials(HTTP_AUTHORIZATION="Bearer asy_wrong")
    assert client.get("/api/v1/projects/").json()["detail"] == "Unknown API token."
    assert token.digest != raw and raw not in str(token.__dict__)


def test_sign_in_sign_out_and_failed_sign_in_are_recorded(users):
    client = Client()
    # The sign-in lockout (django-axes) counts per request: authenticate() needs one.
    request = RequestFactory().post("/login/")
    assert not client.login(request=request, username="cara", password="wrong")
    assert client.login(request=request, username="cara", password="pw")
    client.logout()
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions[-3:] == ["accounts.user.login_failed", "accounts.user.logged_in",
                            "accounts.user.logged_out"]
    failed = AuditEvent.objects.get(action="accounts.user.login_failed")
    assert failed.data == {"username": "cara"}
