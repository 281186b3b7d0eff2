"""REST for owners' webhooks: CRUD, the secret once, ping, the delivery log, redeliver."""

from __future__ import annotations

from unittest import mock

import pytest
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from governance.publishing import delivery as deliveries
from governance.publishing.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def as_user(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_owners_add_change_and_remove_endpoints(users, project, loopback):
    owner = as_user(users["owner"])
    base = f"/api/v1/projects/{project.slug}/webhooks/"
    made = owner.post(base, {"name": "CMS", "url": "http://127.0.0.1:9/hook"}, format="json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["asset.signed"]
    listed = owner.get(base).json()
    assert [w["name"] for w in listed] == ["CMS"] and "secret" not in listed[0]
    url = f"{base}{body['id']}/"
    assert "secret" not in owner.get(url).json()
    off = owner.patch(url, {"active": False}, format="json")
    assert off.status_code == 200 and off.json()["active"] is False
    assert AuditEvent.objects.get(action="publishing.endpoint.updated").data["after"][
        "active"] is False
    assert owner.delete(url).status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(action="publishing.endpoint.deleted").count() == 1


def test_bad_input_is_a_400_that_says_what_to_fix(users, project, loopback):
    owner = as_user(users["owner"])
    base = f"/api/v1/projects/{project.slug}/webhooks/"
    for data, field in (({"name": "x", "url": "file:///etc/passwd"}, "url"),
                        ({"name": "x", "url": "http://10.1.2.3/"}, "url"),
                        ({"name": "", "url": "http://127.0.0.1:9/"}, "name"),
                        ({"name": "x", "url": "http://127.0.0.1:9/", "events": ["nope"]},
                         "events"),
                        ({"name": "x", "url": "http://127.0.0.1:9/", "secret": "mine"},
                         "secret")):
        answer = owner.post(base, data, format="json")
        assert answer.status_code == 400, (data, answer.json())
        assert field in str(answer.json()), answer.json()


def test_others_are_refused(users, project, loopback):
    base = f"/api/v1/projects/{project.slug}/webhooks/"
    data = {"name": "x", "url": "http://127.0.0.1:9/"}
    assert as_user(users["creator"]).post(base, data, format="json").status_code == 403
    assert as_user(users["auditor"]).get(base).status_code == 403
    assert as_user(users["outsider"]).get(base).status_code == 404
    assert as_user(users["admin"]).post(base, data, format="json").status_code == 201


def test_ping_deliveries_and_redeliver(users, endpoint, receiver,
                                       django_capture_on_commit_callbacks):
    owner = as_user(users["owner"])
    base = f"/api/v1/projects/{endpoint.project.slug}/webhooks/{endpoint.pk}/"
    with mock.patch("assay.celery.app.send_task") as send, \
            django_capture_on_commit_callbacks(execute=True):
        pinged = owner.post(f"{base}ping/", {}, format="json")
    assert pinged.status_code == 202 and send.call_count == 1
    delivery_id = pinged.json()["id"]
    receiver.codes = [503]
    deliveries.attempt(delivery_id)
    log = owner.get(f"{base}deliveries/").json()
    assert log["count"] == 1
    row = log["results"][0]
    assert row["status"] == "retrying" and row["last_status_code"] == 503
    assert row["attempt_log"][0]["status_code"] == 503
    with mock.patch("assay.celery.app.send_task"), \
            django_capture_on_commit_callbacks(execute=True):
        again = owner.post(f"/api/v1/deliveries/{delivery_id}/redeliver/", {}, format="json")
    assert again.status_code == 202
    assert again.json()["redelivery_of"] == delivery_id
    detail = owner.get(f"/api/v1/deliveries/{again.json()['id']}/")
    assert detail.status_code == 200 and detail.json()["event"] == "ping"
    assert as_user(users["creator"]).get(f"/api/v1/deliveries/{delivery_id}/").status_code == 403
    assert as_user(users["outsider"]).post(
        f"/api/v1/deliveries/{delivery_id}/redeliver/", {}, format="json").status_code == 404
    assert Delivery.objects.count() == 2


def test_the_schema_lists_the_webhook_endpoints(users):
    client = as_user(users["owner"])
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/projects/{slug}/webhooks/", "/api/v1/deliveries/{delivery_id}/"
                 "redeliver/", "/api/v1/projects/{slug}/webhooks/{webhook_id}/deliveries/"):
        assert path in schema


def test_odd_ids_and_addresses_are_4xx_never_500(users, project, loopback):
    owner = as_user(users["owner"])
    base = f"/api/v1/projects/{project.slug}/webhooks/"
    assert owner.get(f"{base}{'9' * 30}/").status_code == 404
    assert owner.get(f"{base}0/deliveries/").status_code == 404
    for url in ("http://[::1", "http://a b/", "http://host:99999/", "https://ex\u00e4mple.invalid/"):
        answer = owner.post(base, {"name": "x", "url": url}, format="json")
        assert answer.status_code == 400, (url, answer.content)
