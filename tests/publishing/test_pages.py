"""The owners' webhooks pages: add (secret once), change and turn off, ping, the log with
each answer, redeliver; members who may not manage get a 403, outsiders a 404."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client

from governance.publishing import delivery as deliveries
from governance.publishing.models import Delivery, WebhookEndpoint
from tests.publishing.helpers import endpoint_with_log

pytestmark = pytest.mark.django_db


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_an_owner_adds_an_endpoint_and_sees_the_secret_once(users, project, loopback):
    owner = signed_in(users["owner"])
    url = f"/projects/{project.slug}/webhooks/"
    page = owner.post(url, {"name": "Website CMS", "url": "http://127.0.0.1:9/hook",
                            "active": "on"})
    assert page.status_code == 200
    secret = WebhookEndpoint.objects.get().secret
    assert secret in page.content.decode() and page["Cache-Control"].startswith("max-age=0")
    again = owner.get(url).content.decode()
    assert "Website CMS" in again and secret not in again
    refused = owner.post(url, {"name": "x", "url": "file:///etc/passwd"})
    assert refused.status_code == 400 and "http://" in refused.content.decode()


def test_the_endpoint_page_shows_the_log_and_turns_it_off(users, project,
                                                          django_assert_max_num_queries):
    endpoint, first = endpoint_with_log(project, users["owner"])
    owner = signed_in(users["owner"])
    url = f"/projects/{project.slug}/webhooks/{endpoint.pk}/"
    owner.get(url)
    with django_assert_max_num_queries(9):
        page = owner.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Delivered" in html and "Gave up" in html and "503" in html and "200" in html
    assert "Send again" in html and "Send a test message" in html
    saved = owner.post(url, {"name": "CMS", "url": endpoint.url})  # "active" unticked
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active is False and endpoint.name == "CMS"


def test_ping_and_redeliver_from_the_page(users, endpoint, receiver,
                                          django_capture_on_commit_callbacks):
    owner = signed_in(users["owner"])
    base = f"/projects/{endpoint.project.slug}"
    with mock.patch("assay.celery.app.send_task"), \
            django_capture_on_commit_callbacks(execute=True):
        assert owner.post(f"{base}/webhooks/{endpoint.pk}/ping/").status_code == 302
    ping = Delivery.objects.get()
    deliveries.attempt(str(ping.pk))
    with mock.patch("assay.celery.app.send_task"), \
            django_capture_on_commit_callbacks(execute=True):
        answer = owner.post(f"{base}/deliveries/{ping.pk}/redeliver/")
    assert answer.status_code == 302 and answer["Location"].endswith(f"/{endpoint.pk}/")
    assert Delivery.objects.filter(redelivery_of=ping).count() == 1
    assert receiver.verified == [True]


def test_members_who_may_not_manage_and_outsiders_are_refused(users, project):
    endpoint, delivery = endpoint_with_log(project, users["owner"])
    for role, code in (("creator", 403), ("reviewer", 403), ("auditor", 403),
                       ("outsider", 404), ("admin", 200)):
        client = signed_in(users[role])
        assert client.get(f"/projects/{project.slug}/webhooks/").status_code == code, role
        assert client.get(f"/projects/{project.slug}/webhooks/{endpoint.pk}/"
                          ).status_code == code, role


def test_the_manage_hub_links_owners_to_webhooks(users, project):
    html = signed_in(users["owner"]).get(f"/projects/{project.slug}/manage/").content.decode()
    assert f"/projects/{project.slug}/webhooks/" in html
    html = signed_in(users["creator"]).get(f"/projects/{project.slug}/manage/").content.decode()
    assert f"/projects/{project.slug}/webhooks/" not in html
