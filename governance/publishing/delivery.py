"""From a signed asset to its deliveries, and one attempt of a delivery at a time.

``fan_out`` runs after the signing commits (never inside it) and writes one delivery row
per (publisher, destination): the row is the outbox, and the unique constraint makes a
repeated fan-out a no-op. ``attempt`` calls the publisher once, outside any transaction,
then records the attempt, the new state and, when the delivery is finished, its audit
event, together. The backoff is exponential with jitter; the Celery task turns the
returned wait into a retry countdown, and the sweeper re-sends deliveries whose message
was lost.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from assay.audit.context import Actor, current
from assay.audit.services import record
from assay.plugins.contracts import (
    PublishAttempt,
    PublishedAsset,
    Publisher,
    PublishOutcome,
    PublishTarget,
)
from governance.provenance.models import SignedAsset
from governance.publishing.choices import PING, DeliveryStatus, WebhookEvent
from governance.publishing.dispatch import queue_delivery
from governance.publishing.models import Delivery, DeliveryAttempt, WebhookEndpoint
from governance.publishing.registry import publishers
from governance.publishing.urlsafety import UnreachableHost, check_url

log = logging.getLogger(__name__)
PUBLISHER = Actor.system("publishing")
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
#: How long a worker holds a delivery while attempting it (beyond the request timeout).
CLAIM_MARGIN_SECONDS = 30
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
ASSET_EVENT = WebhookEvent.ASSET_SIGNED.value


def backoff_seconds(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Wait after failed attempt ``attempt`` (1-based): 30 s doubling to 1 h, +0-25%."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return base * (1 + 0.25 * rng())


def _read(field: Any) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def published_asset(row: SignedAsset) -> PublishedAsset:
    """The plain-data view of a signed asset a publisher receives."""
    asset = row.asset
    return PublishedAsset(
        asset_id=str(asset.pk), project=row.project.slug, sha256=row.signed_sha256,
        media_type=row.format, size=row.byte_size, signed_at=row.signed_at.isoformat(),
        download_path=reverse("api:asset-content", kwargs={"pk": str(asset.pk)}),
        sidecar_path=(reverse("api:asset-sidecar", kwargs={"asset_id": str(asset.pk)})
                      if row.sidecar else None),
        credentials={"manifest": row.manifest_label, "signer": row.certificate_subject,
                     "certificate_sha256": row.certificate_fingerprint,
                     "embedded": row.embedded, "signed_at": row.signed_at.isoformat(),
                     "review": row.review_id, "source_sha256": row.source_sha256},
        reader=partial(_read, row.file),
        sidecar_reader=partial(_read, row.sidecar) if row.sidecar else None)


def _endpoint_target(endpoint: WebhookEndpoint) -> PublishTarget:
    return PublishTarget(key=str(endpoint.pk), label=endpoint.name, url=endpoint.url,
                         secret=endpoint.secret,
                         options={"timeout": settings.ASSAY_WEBHOOK_TIMEOUT_SECONDS})


def fan_out(signed_id: str, correlation_id: str = "") -> list[str]:
    """One delivery per (publisher, destination) for a freshly signed asset version;
    returns the ids of the deliveries made now (none for a repeat or a derivative)."""
    row = (SignedAsset.objects.select_related("asset", "project")
           .filter(pk=signed_id, parent__isnull=True).first())
    if row is None:
        return []
    made: list[str] = []
    for publisher_id, cls in sorted(publishers().items()):
        if cls.owner_endpoints:
            endpoints = WebhookEndpoint.objects.filter(project_id=row.project_id,
                                                       publisher=publisher_id, active=True)
            targets = [(e, str(e.pk)) for e in endpoints if ASSET_EVENT in (e.events or [])]
        else:
            try:
                targets = [(None, t.key) for t in cls().targets(published_asset(row))]
            except Exception:
                log.exception("publisher %s could not name its destinations", publisher_id)
                continue
        for endpoint, key in targets:
            try:
                with transaction.atomic():
                    delivery = Delivery.objects.create(
                        project_id=row.project_id, endpoint=endpoint, publisher=publisher_id,
                        target=key, asset_id=row.asset_id, signed=row, event=ASSET_EVENT,
                        max_attempts=settings.ASSAY_WEBHOOK_MAX_ATTEMPTS,
                        correlation_id=correlation_id or current().correlation_id)
                    transaction.on_commit(partial(queue_delivery, str(delivery.pk),
                                                  delivery.correlation_id))
            except IntegrityError:
                continue  # made by an earlier fan-out of the same signing
            made.append(str(delivery.pk))
    return made


def _claim(delivery_id: str, now: datetime) -> Delivery | None:
    """Take the delivery for one attempt, unless it is finished or another worker has it."""
    lease = now + timedelta(seconds=settings.ASSAY_WEBHOOK_TIMEOUT_SECONDS
                            + CLAIM_MARGIN_SECONDS)
    taken = Delivery.objects.filter(pk=delivery_id, status__in=OPEN).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)).update(claimed_until=lease)
    if not taken:
        return None
    return Delivery.objects.select_related(
        "endpoint", "signed__asset", "signed__project", "project").get(pk=delivery_id)


def _call(delivery: Delivery, number: int, now: datetime) -> PublishOutcome:
    """One publisher call, with the address checked again first (it may resolve
    elsewhere now); nothing here raises."""
    cls = publishers().get(delivery.publisher)
    if cls is None:
        return PublishOutcome(ok=False, retry=True, error=(
            f"The publisher “{delivery.publisher}” is not loaded (see the plugin status)."))
    endpoint = delivery.endpoint
    if cls.owner_endpoints:
        if endpoint is None:
            return PublishOutcome(ok=False, error="The endpoint was removed.")
        if not endpoint.active and delivery.event != PING:
            return PublishOutcome(ok=False, error="The endpoint is turned off.")
        try:
            check_url(endpoint.url)
        except UnreachableHost as exc:
            return PublishOutcome(ok=False, retry=True, error=str(exc))
        except Exception as exc:  # InvalidInput: the address is not allowed now
            return PublishOutcome(ok=False, error=getattr(exc, "message", str(exc)))
        target = _endpoint_target(endpoint)
    else:
        target = PublishTarget(key=delivery.target, label=delivery.publisher,
                               options={"timeout": settings.ASSAY_WEBHOOK_TIMEOUT_SECONDS})
    asset = published_asset(delivery.signed) if delivery.signed_id else None
    attempt = PublishAttempt(delivery_id=str(delivery.pk), event=delivery.event,
                             event_id=str(delivery.event_id), number=number,
                             timestamp=int(now.timestamp()))
    publisher: Publisher = cls()
    try:
        return publisher.publish(asset, target, attempt)
    except Exception as exc:  # a publisher must not raise; if it does, it is retried
        log.exception("publisher %s raised", delivery.publisher)
        return PublishOutcome(ok=False, retry=True, error=f"The publisher failed: {exc}")


def attempt(delivery_id: str, *, now: datetime | None = None,
            rng: Callable[[], float] = random.random) -> float | None:
    """Attempt a delivery once; the seconds until the next attempt, or None when it is
    finished (delivered, given up) or not this worker's to attempt."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    number = delivery.attempts + 1
    started = time.monotonic()
    outcome = _call(delivery, number, now)
    duration = int((time.monotonic() - started) * 1000)
    wait = (backoff_seconds(number, rng)
            if not outcome.ok and outcome.retry and number < delivery.max_attempts else None)
    if outcome.ok:
        status = DeliveryStatus.SUCCEEDED
    else:
        status = DeliveryStatus.RETRYING if wait is not None else DeliveryStatus.FAILED
    error = (outcome.error or "")[:2000]
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, number=number, started_at=now,
                                       duration_ms=duration, status_code=outcome.status_code,
                                       ok=outcome.ok, error=error)
        delivery.attempts, delivery.status = number, status
        delivery.last_status_code, delivery.last_error = outcome.status_code, error
        delivery.last_duration_ms, delivery.claimed_until = duration, None
        delivery.next_retry_at = now + timedelta(seconds=wait) if wait is not None else None
        delivery.finished_at = now if wait is None else None
        delivery.save(update_fields=["attempts", "status", "last_status_code", "last_error",
                                     "last_duration_ms", "claimed_until", "next_retry_at",
                                     "finished_at"])
        if wait is None:
            record("publishing.delivery.sent" if outcome.ok else "publishing.delivery.failed",
                   target=delivery, actor=PUBLISHER, reason="" if outcome.ok else error[:500],
                   data={"delivery": str(delivery.pk), "event": delivery.event,
                         "event_id": str(delivery.event_id), "publisher": delivery.publisher,
                         "target": delivery.target, "endpoint": delivery.endpoint_id,
                         "asset": str(delivery.asset_id) if delivery.asset_id else None,
                         "attempts": number, "status_code": outcome.status_code,
                         "redelivery_of": (str(delivery.redelivery_of_id)
                                           if delivery.redelivery_of_id else None)})
    return wait


def sweep(limit: int = 100) -> int:
    """Re-send deliveries whose task message was lost (broker down, worker killed)."""
    stale = timezone.now() - timedelta(seconds=settings.ASSAY_SWEEP_STALE_SECONDS)
    lost = (Delivery.objects.filter(status__in=OPEN)
            .filter(Q(next_retry_at__lt=stale) | Q(next_retry_at__isnull=True,
                                                    created_at__lt=stale))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=stale))
            .values_list("pk", "correlation_id")[:limit])
    sent = 0
    for pk, correlation_id in lost:
        sent += queue_delivery(str(pk), correlation_id)
    return sent
