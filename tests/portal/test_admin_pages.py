"""The platform admins' screens and their REST twins: who may see them, and what they say.

Plugins (a broken plugin installed for real), signing credentials (a certificate 29 days
from its end warns), everyone's tokens (filters, revoke through the accounts service) and
system health (queue depths counted on the real Redis broker and on the folder broker).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assay.accounts.services import create_token
from assay.audit.models import AuditEvent
from assay.celery import app
from assay.generation.choices import JobStatus
from assay.generation.models import GenerationJob
from assay.plugins.manager import reset_plugins
from tests.conftest import generate_checked
from tests.portal.admin_helpers import BROKEN_MESSAGE, install_broken_plugin, signing_valid_for
from tests.portal.test_page_budgets import raw_names, visible_text

pytestmark = pytest.mark.django_db

SCREENS = ("portal:admin_index", "portal:admin_plugins", "portal:admin_signing",
           "portal:admin_tokens", "portal:admin_health")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(users) -> Client:
    return signed_in(users["admin"])


@pytest.fixture
def broken_plugin(tmp_path, monkeypatch, settings):
    install_broken_plugin(tmp_path, monkeypatch, settings)
    yield
    reset_plugins()


@pytest.mark.parametrize("name", SCREENS)
def test_only_platform_admins_see_the_admin_screens(users, name, dev_signing):
    url = reverse(name)
    assert Client().get(url).status_code == 302  # to sign in
    for role in ("creator", "reviewer", "owner", "auditor", "outsider"):
        response = signed_in(users[role]).get(url)
        assert response.status_code == 403, role
        assert "Only platform admins can see" in visible_text(response.content.decode())
    assert signed_in(users["admin"]).get(url).status_code == 200


def test_the_admin_link_shows_for_admins_only(users, admin):
    assert 'id="nav-admin"' in admin.get(reverse("portal:home")).content.decode()
    assert 'id="nav-admin"' not in signed_in(users["creator"]).get(
        reverse("portal:home")).content.decode()
    index = admin.get(reverse("portal:admin_index")).content.decode()
    for name in SCREENS[1:]:
        assert reverse(name) in index


# -- plugins ------------------------------------------------------------------------------
def test_a_broken_plugin_is_shown_in_words_with_its_error_folded(admin, broken_plugin):
    response = admin.get(reverse("portal:admin_plugins"))
    html = response.content.decode()
    text = visible_text(html)
    assert "1 plugin could not be loaded" in text
    assert "Admin broken" in text and "Not loaded" in text
    assert "its code stopped with an error while it was being loaded" in text
    assert BROKEN_MESSAGE not in text and "Traceback" not in text  # only in the fold
    assert BROKEN_MESSAGE in html and "admin-broken-plugin" in html and "1.2" in text
    # the working ones: version, and what they add in words
    assert "Working" in text and "0.3.0" in text and "adds generators" in text
    shown = sorted({m.group(0) for pattern in raw_names() for m in pattern.finditer(text)})
    assert not shown, f"plugin ids outside the Details fold: {shown}"
    # the REST twin reads the same statuses
    api = APIClient()
    api.force_login(response.wsgi_request.user)
    rows = {row["name"]: row for row in api.get("/api/v1/plugins/").json()}
    assert rows["admin_broken"]["status"] == "failed"
    assert BROKEN_MESSAGE in rows["admin_broken"]["error"]


# -- signing credentials ------------------------------------------------------------------
def test_a_certificate_29_days_from_its_end_warns(admin, users, tmp_path, settings):
    signing_valid_for(tmp_path / "short", settings, days=29.5)
    html = admin.get(reverse("portal:admin_signing")).content.decode()
    text = visible_text(html)
    assert 'data-state="expiring"' in html and 'role="alert"' in html
    assert "expires in 29 days" in text and "Renew it" in text
    assert "Assay Content Signing" in text and "Assay Development Root CA" in text
    assert "PRIVATE KEY" not in html
    api = APIClient()
    api.force_login(users["admin"])
    body = api.get("/api/v1/provenance/credentials/").json()
    assert body["state"] == "expiring" and body["warn"] is True and body["days_left"] == 29
    assert len(body["fingerprint"]) == 64 and "key" not in " ".join(body).lower()
    assert "PRIVATE KEY" not in str(body)


def test_a_certificate_with_months_left_does_not_warn(admin, tmp_path, settings):
    signing_valid_for(tmp_path / "long", settings, days=200.5)
    html = admin.get(reverse("portal:admin_signing")).content.decode()
    assert 'data-state="ok"' in html and "valid for 200 days more" in visible_text(html)


def test_missing_credentials_are_said_in_words(admin, users, tmp_path, settings):
    settings.ASSAY_SIGNING_DIR = tmp_path / "none"
    settings.ASSAY_SIGNING_CERT = settings.ASSAY_SIGNING_KEY = ""
    response = admin.get(reverse("portal:admin_signing"))
    text = visible_text(response.content.decode())
    assert response.status_code == 200 and "No usable signing credentials" in text
    assert str(tmp_path) not in text  # the path is in the Details fold only
    api = APIClient()
    api.force_login(users["admin"])
    assert api.get("/api/v1/provenance/credentials/").json()["state"] == "unavailable"


def test_the_credentials_endpoint_is_for_admins_only(users):
    api = APIClient()
    api.force_login(users["auditor"])
    response = api.get("/api/v1/provenance/credentials/")
    assert response.status_code == 403 and "platform admins" in response.json()["detail"]


# -- everyone's tokens --------------------------------------------------------------------
def test_admin_filters_and_revokes_another_users_token(admin, users):
    mine, _ = create_token(users["creator"], name="ci pipeline", scope="read", days=7)
    other, _ = create_token(users["reviewer"], name="reports", scope="write", days=7)
    page = admin.get(reverse("portal:admin_tokens"))
    text = visible_text(page.content.decode())
    assert "ci pipeline" in text and "reports" in text and "cara" in text and "rui" in text
    only = visible_text(admin.get(reverse("portal:admin_tokens"), {"user": "cara"})
                        .content.decode())
    assert "ci pipeline" in only and "reports" not in only

    response = admin.post(reverse("portal:admin_token_revoke", args=[mine.pk]),
                          {"reason": "left the team", "user": "cara"})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:admin_tokens") + "?user=cara"
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    event = AuditEvent.objects.filter(action="accounts.token.revoked").latest("id")
    assert event.reason == "left the team"
    revoked = admin.get(reverse("portal:admin_tokens"), {"status": "revoked"}).content.decode()
    assert "ci pipeline" in visible_text(revoked) and "reports" not in visible_text(revoked)
    again = admin.post(reverse("portal:admin_token_revoke", args=[mine.pk]), follow=True)
    assert "already revoked" in visible_text(again.content.decode())
    # the owner still manages theirs on the tokens page
    assert "ci pipeline" in visible_text(signed_in(users["creator"]).get(
        reverse("portal:tokens")).content.decode())
    assert other.pk


def test_a_bad_token_filter_is_a_400_in_words(admin):
    response = admin.get(reverse("portal:admin_tokens"), {"status": "lost"})
    assert response.status_code == 400
    assert "The status filter" in visible_text(response.content.decode())


def test_others_cannot_revoke_through_the_admin_screen(users):
    token, _ = create_token(users["reviewer"], name="reports", scope="write", days=7)
    response = signed_in(users["creator"]).post(
        reverse("portal:admin_token_revoke", args=[token.pk]))
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert signed_in(users["admin"]).post(
        reverse("portal:admin_token_revoke", args=[999999])).status_code == 404


# -- system health ------------------------------------------------------------------------
def _purge(queue: str) -> None:
    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_purge(queue)
        except Exception:  # an empty Redis queue has no list to purge
            pass


def _depth(html: str, queue: str) -> str:
    start = html.index(f'data-queue="{queue}"')
    cell = html.index('class="depth">', start) + len('class="depth">')
    return html[cell:html.index("</td>", cell)]


def test_health_counts_messages_on_the_real_redis_broker(admin, users, require_redis,
                                                          use_broker, project, template,
                                                          django_capture_on_commit_callbacks):
    use_broker(require_redis)
    _purge("cpu")
    try:
        for _ in range(3):
            app.send_task("assay.tests.not_a_task", queue="cpu", retry=False)
        asset = generate_checked(users["creator"], project, django_capture_on_commit_callbacks)
        GenerationJob.objects.filter(pk=asset.job.pk).update(
            status=JobStatus.RUNNING, claimed_by="worker-7@gpu-node",
            lease_expires_at=timezone.now() - dt.timedelta(minutes=2))
        html = admin.get(reverse("portal:admin_health")).content.decode()
        text = visible_text(html)
        assert 'id="health-database" data-ok="true"' in html
        assert 'id="health-broker" data-ok="true"' in html and "Broker (Redis)" in text
        assert _depth(html, "cpu") == "3"
        assert "worker-7@gpu-node" in text and "ran out" in text
        api = APIClient()
        api.force_login(users["admin"])
        body = api.get("/api/v1/health/").json()
        assert body["ok"] is True and body["broker_kind"] == "Redis"
        assert {"name": "cpu", "waiting": 3} in body["queues"]
        worker = next(w for w in body["workers"] if w["name"] == "worker-7@gpu-node")
        assert worker["running"] == 1 and worker["lease_lapsed"] is True
    finally:
        _purge("cpu")


def test_health_counts_files_on_the_folder_broker(admin, use_broker, tmp_path):
    folder = str(tmp_path)
    use_broker("filesystem://", {"data_folder_in": folder, "data_folder_out": folder,
                                 "control_folder": folder, "store_processed": False})
    for _ in range(2):
        app.send_task("assay.tests.not_a_task", queue="cpu", retry=False)
    html = admin.get(reverse("portal:admin_health")).content.decode()
    assert "Broker (folder broker)" in visible_text(html) and _depth(html, "cpu") == "2"


def test_other_brokers_say_unknown_and_a_down_broker_is_said_in_words(admin, use_broker):
    use_broker("memory://")
    assert _depth(admin.get(reverse("portal:admin_health")).content.decode(),
                  "cpu") == "unknown"
    use_broker("redis://127.0.0.1:1/0")
    html = admin.get(reverse("portal:admin_health")).content.decode()
    text = visible_text(html)
    assert 'id="health-broker" data-ok="false"' in html
    assert "The broker does not answer" in text and "Error" not in text


def test_the_health_endpoint_is_for_admins_only(users):
    api = APIClient()
    api.force_login(users["owner"])
    assert api.get("/api/v1/health/").status_code == 403
    assert APIClient().get("/api/v1/health/").status_code == 401
