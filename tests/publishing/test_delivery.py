"""Webhook deliveries against a real HTTP receiver on 127.0.0.1: signature, retries with
backoff, giving up, redelivery, audit events and the address checks."""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from assay.audit.models import AuditEvent
from assay.core.exceptions import InvalidInput, NotFound, NotPermitted
from governance.publishing import delivery as deliveries
from governance.publishing.models import Delivery
from governance.publishing.services import create_endpoint, redeliver, send_ping
from governance.publishing.tasks import deliver_task
from plugins.webhooks import signature

pytestmark = pytest.mark.django_db


def ping(owner, endpoint, capture):
    with mock.patch("assay.celery.app.send_task") as send, capture(execute=True):
        delivery = send_ping(owner, endpoint)
    # given the ping is queued after commit, as the deliver task with its id
    assert send.call_args.args[0] == "publishing.deliver"
    assert send.call_args.kwargs["args"][0] == str(delivery.pk)
    return delivery


def test_a_ping_is_signed_and_the_receiver_verifies_it(users, endpoint, receiver,
                                                       django_capture_on_commit_callbacks):
    delivery = ping(users["owner"], endpoint, django_capture_on_commit_callbacks)
    assert deliveries.attempt(str(delivery.pk)) is None
    assert receiver.verified == [True]
    got = receiver.received[0]
    assert got.headers["Assay-Delivery"] == str(delivery.pk)
    assert got.headers["Assay-Event"] == "ping"
    assert got.headers["Content-Type"] == "application/json"
    assert got.json["type"] == "ping" and got.json["id"] == str(delivery.event_id)
    t = int(got.headers[signature.HEADER].split(",")[0].removeprefix("t="))
    assert abs(t - timezone.now().timestamp()) < 60
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "succeeded", 1, 200)
    assert [(t.number, t.status_code, t.ok) for t in delivery.tries.all()] == [(1, 200, True)]
    sent = AuditEvent.objects.get(action="publishing.delivery.sent")
    assert sent.data["delivery"] == str(delivery.pk) and sent.data["status_code"] == 200
    assert sent.project_id == endpoint.project_id


def test_the_wrong_secret_or_an_old_timestamp_fails_verification(
        users, endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.secret = "whsec_not-this-one"
    delivery = ping(users["owner"], endpoint, django_capture_on_commit_callbacks)
    deliveries.attempt(str(delivery.pk))
    assert receiver.verified == [False]
    body, secret = receiver.received[0].body, endpoint.secret
    header = receiver.received[0].headers[signature.HEADER]
    t = int(header.split(",")[0][2:])
    assert signature.verify(secret, header, body, now=t)
    assert not signature.verify(secret, header, body + b" ", now=t)  # body changed
    assert not signature.verify(secret, header, body, now=t + 301)  # a replay, too late
    assert not signature.verify(secret, "v1=abc", body, now=t)


def test_a_receiver_that_is_down_is_retried_with_backoff_then_succeeds(
        users, endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.stop()  # nobody listens: connection refused
    delivery = ping(users["owner"], endpoint, django_capture_on_commit_callbacks)
    t0 = timezone.now()
    # when the first attempt cannot connect, then it waits 30 s (no jitter drawn here)
    assert deliveries.attempt(str(delivery.pk), now=t0, rng=lambda: 0.0) == 30
    delivery.refresh_from_db()
    assert delivery.status == "retrying" and delivery.last_status_code is None
    assert "Could not reach" in delivery.last_error
    assert delivery.next_retry_at == t0 + timedelta(seconds=30)
    # when it comes back answering 503 once, then the wait doubles (with jitter up to 25%)
    receiver.codes = [503]
    receiver.start()
    wait = deliveries.attempt(str(delivery.pk), now=t0 + timedelta(seconds=30),
                              rng=lambda: 1.0)
    assert wait == 75.0  # 60 s + 25%
    # then the third attempt is delivered
    assert deliveries.attempt(str(delivery.pk), now=t0 + timedelta(seconds=105)) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_retry_at) == (
        "succeeded", 3, None)
    assert [t.status_code for t in delivery.tries.all()] == [None, 503, 200]
    assert receiver.verified == [True, True]  # each attempt signed with its own timestamp
    assert len({r.headers["Assay-Delivery"] for r in receiver.received}) == 1
    assert AuditEvent.objects.filter(action="publishing.delivery.sent").count() == 1


def test_the_task_retries_in_process_until_delivered(users, endpoint, receiver,
                                                     django_capture_on_commit_callbacks):
    receiver.codes = [503, 502]
    delivery = ping(users["owner"], endpoint, django_capture_on_commit_callbacks)
    # the task chain, run eagerly: each retry is Celery's, with the service's countdown
    with mock.patch.object(deliver_task, "retry", wraps=deliver_task.retry) as retry:
        deliver_task.apply(args=[str(delivery.pk), ""])
    countdowns = [c.kwargs["countdown"] for c in retry.call_args_list]
    assert len(countdowns) == 2 and 30 <= countdowns[0] <= 37.5 <= 60 <= countdowns[1] <= 75
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert len(receiver.received) == 3


def test_it_gives_up_after_the_last_attempt_and_at_once_on_a_4xx(
        users, endpoint, receiver, settings, django_capture_on_commit_callbacks):
    settings.ASSAY_WEBHOOK_MAX_ATTEMPTS = 2
    receiver.codes = [500, 500, 410]
    first = ping(users["owner"], endpoint, django_capture_on_commit_callbacks)
    assert deliveries.attempt(str(first.pk)) is not None
    assert deliveries.attempt(str(first.pk)) is None
    first.refresh_from_db()
    assert (first.status, first.attempts, first.last_status_code) == ("failed", 2, 500)
    gone = ping(users["owner"], endpoint, django_capture_on_commit_callbacks)
    assert deliveries.attempt(str(gone.pk)) is None
    gone.refresh_from_db()
    assert (gone.status, gone.attempts, gone.last_status_code) == ("failed", 1, 410)
    failed = AuditEvent.objects.filter(action="publishing.delivery.failed")
    assert failed.count() == 2 and "410" in failed.order_by("id").last().reason
    # a finished delivery is not attempted again by a duplicate task message
    assert deliveries.attempt(str(gone.pk)) is None
    assert len(receiver.received) == 3


def test_redeliver_sends_the_same_event_as_a_new_delivery(
        users, endpoint, receiver, django_capture_on_commit_callbacks):
    first = ping(users["owner"], endpoint, django_capture_on_commit_callbacks)
    deliveries.attempt(str(first.pk))
    with mock.patch("assay.celery.app.send_task"), \
            django_capture_on_commit_callbacks(execute=True):
        again = redeliver(users["owner"], first)
    deliveries.attempt(str(again.pk))
    assert again.redelivery_of_id == first.pk and again.event_id == first.event_id
    a, b = receiver.received
    assert a.json["id"] == b.json["id"]  # the receiver can tell a replay
    assert a.headers["Assay-Delivery"] != b.headers["Assay-Delivery"]
    assert receiver.verified == [True, True]
    event = AuditEvent.objects.get(action="publishing.delivery.redelivered")
    assert event.data["of"] == str(first.pk) and event.actor_display == "olga"
    assert Delivery.objects.filter(event_id=first.event_id).count() == 2


def test_the_secret_is_shown_once_and_never_recorded(users, project, loopback):
    endpoint, secret = create_endpoint(users["owner"], project, name="CMS",
                                       url="http://127.0.0.1:9/hook")
    assert secret.startswith("whsec_") and len(secret) > 40
    assert secret not in repr(endpoint) and secret not in str(endpoint)
    for event in AuditEvent.objects.filter(action__startswith="publishing."):
        assert secret not in json.dumps(event.data)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1/", "http://",
    "http://10.0.0.8/hook", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data",
    "http://[::ffff:10.0.0.1]/", "http://0.0.0.0:8000/", "http://127.0.0.2/",
])
def test_addresses_assay_will_not_call(users, project, loopback, url):
    with pytest.raises(InvalidInput):
        create_endpoint(users["owner"], project, name="x", url=url)


def test_loopback_only_when_the_setting_permits(users, project, settings):
    settings.ASSAY_WEBHOOK_ALLOW_LOOPBACK = False
    for url in ("http://127.0.0.1:8000/hook", "http://localhost/hook", "http://[::1]/"):
        with pytest.raises(InvalidInput, match="local or private"):
            create_endpoint(users["owner"], project, name="x", url=url)
    settings.ASSAY_WEBHOOK_ALLOW_LOOPBACK = True
    assert create_endpoint(users["owner"], project, name="x",
                           url="http://localhost:8000/hook")[0].pk


def test_an_address_refused_later_fails_the_delivery_without_a_request(
        users, endpoint, receiver, settings, django_capture_on_commit_callbacks):
    delivery = ping(users["owner"], endpoint, django_capture_on_commit_callbacks)
    settings.ASSAY_WEBHOOK_ALLOW_LOOPBACK = False  # e.g. the setting was turned off since
    assert deliveries.attempt(str(delivery.pk)) is None
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "local or private" in delivery.last_error
    assert receiver.received == []


def test_only_owners_manage_webhooks(users, project, loopback):
    with pytest.raises(NotPermitted, match="owner"):
        create_endpoint(users["creator"], project, name="x", url="http://127.0.0.1:9/")
    with pytest.raises(NotFound):
        create_endpoint(users["outsider"], project, name="x", url="http://127.0.0.1:9/")
