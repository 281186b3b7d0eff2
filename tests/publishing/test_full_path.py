"""Approve → sign → publish, with real C2PA signing and a real receiver on 127.0.0.1.

Each step runs what the worker runs, from the task message the step before sent: the
signing task (queued by the approval), the fan-out (queued once the signing committed,
never inside it) and one delivery task per endpoint.
"""

from __future__ import annotations

import hashlib
from unittest import mock

import pytest

from assay.audit.models import AuditEvent
from governance.provenance.models import SignedAsset
from governance.provenance.tasks import sign_asset_task
from governance.publishing.models import Delivery
from governance.publishing.services import create_endpoint, update_endpoint
from governance.publishing.tasks import deliver_task, fan_out_task
from tests.provenance.conftest import approve, image_bytes, make_image_asset, make_image_job

pytestmark = pytest.mark.django_db


def sent(send, name):
    return [c.kwargs["args"] for c in send.call_args_list if c.args[0] == name]


def test_an_approved_asset_is_signed_then_announced(users, project, template, endpoint,
                                                    receiver, dev_signing,
                                                    django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    # an endpoint that is off and one for no event are left out
    off, _ = create_endpoint(users["owner"], project, name="Old", url=receiver.url)
    update_endpoint(users["owner"], off, active=False)
    job = make_image_job(project, users["creator"], template)
    asset = make_image_asset(project, users["creator"], job, image_bytes())
    review, send = approve(asset, users["creator"], users["reviewer"], capture)
    [sign_args] = sent(send, "provenance.sign_asset")

    # the signing task: the fan-out is sent only once its transaction has committed
    with mock.patch("assay.celery.app.send_task") as send, capture(execute=False) as hooks:
        signed_id = sign_asset_task(*sign_args)
        assert send.call_count == 0  # nothing leaves inside the signing transaction
    for hook in hooks:
        with mock.patch("assay.celery.app.send_task") as send:
            hook()
    [fan_args] = sent(send, "publishing.fan_out")
    assert fan_args[0] == signed_id

    with mock.patch("assay.celery.app.send_task") as send, capture(execute=True):
        made = fan_out_task(*fan_args)
        assert fan_out_task(*fan_args) == []  # a repeated message makes nothing new
    [deliver_args] = sent(send, "publishing.deliver")
    assert made == [deliver_args[0]]

    deliver_task.apply(args=deliver_args)
    [got] = receiver.received
    assert receiver.verified == [True]
    signed = SignedAsset.objects.get(pk=signed_id)
    data = signed.file.open("rb").read()
    body = got.json
    assert body["type"] == "asset.signed" and got.headers["Assay-Event"] == "asset.signed"
    item = body["data"]["asset"]
    assert item["id"] == str(asset.pk) and item["project"] == project.slug
    assert item["sha256"] == signed.signed_sha256 == hashlib.sha256(data).hexdigest()
    assert item["media_type"] == "image/png" and item["size"] == len(data)
    assert item["download_path"] == f"/api/v1/assets/{asset.pk}/content/"
    assert body["data"]["credentials"]["manifest"] == signed.manifest_label
    assert body["data"]["credentials"]["review"] == review.pk
    delivery = Delivery.objects.get(pk=deliver_args[0])
    assert delivery.status == "succeeded" and delivery.endpoint_id == endpoint.pk
    assert str(delivery.event_id) == body["id"]

    # the audit log joins the approval, its signature and its delivery
    approved = AuditEvent.objects.get(action="review.asset.approved")
    signed_event = AuditEvent.objects.get(action="provenance.asset.signed")
    sent_event = AuditEvent.objects.get(action="publishing.delivery.sent")
    assert approved.correlation_id == signed_event.correlation_id == sent_event.correlation_id
    assert sent_event.data["asset"] == str(asset.pk)
