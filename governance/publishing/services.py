"""Owners' webhook endpoints: add, change, remove, ping; redeliver a delivery.

Each service checks the owner's capability, validates, then writes in one transaction
with its audit event; REST and the portal both call these. The secret is made here and
returned once, by ``create_endpoint``: nothing else hands it out, and no audit event or
log line carries it.
"""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from assay.accounts.choices import Capability
from assay.audit.context import actor_for, current
from assay.audit.services import record
from assay.core.exceptions import InvalidInput, NotFound
from assay.studio.services.projects import require_capability
from governance.publishing.choices import PING, DeliveryStatus, WebhookEvent
from governance.publishing.dispatch import queue_delivery
from governance.publishing.models import Delivery, WebhookEndpoint
from governance.publishing.urlsafety import UnreachableHost, check_url

NAME_CHARS = 100
DOING = "manage this project's webhooks"
WEBHOOKS = "webhooks"


def _project(user: Any, project: Any) -> Any:
    return require_capability(user, project, Capability.MANAGE, doing=DOING)


def managed_project(user: Any, project: Any) -> Any:
    """The project, if ``user`` may manage its webhooks (NotFound, NotPermitted if not):
    faces ask first, so an outsider's bad input is a 404, not a 400 about the input."""
    return _project(user, project)


def endpoints_of(user: Any, project: Any) -> Any:
    """The project's endpoints, for its owners (and platform admins)."""
    return endpoints_in(_project(user, project))


def endpoints_in(project: Any) -> Any:
    """The endpoints of a project ``managed_project`` already let the user manage."""
    return WebhookEndpoint.objects.filter(project=project)


def endpoint_of(user: Any, project: Any, endpoint_id: Any) -> WebhookEndpoint:
    """One endpoint of the project, or NotFound (for a malformed id too)."""
    found = None
    if str(endpoint_id).isdigit() and len(str(endpoint_id)) < 19:  # fits a bigint
        found = endpoints_of(user, project).filter(pk=int(endpoint_id)).first()
    if found is None:
        raise NotFound(f"No webhook {endpoint_id} in this project.")
    return found


def delivery_of(user: Any, delivery_id: Any) -> Delivery:
    """A delivery in a project ``user`` manages, or NotFound (members of it who may not
    manage get a refusal that says so)."""
    row = Delivery.objects.get_visible(user, delivery_id, noun="delivery")
    _project(user, row.project_id)
    return row


def deliveries_of(endpoint: WebhookEndpoint) -> Any:
    """The endpoint's delivery log, newest first, attempts prefetched."""
    return (Delivery.objects.filter(endpoint=endpoint).select_related("asset")
            .prefetch_related("tries").order_by("-created_at"))


def _name(value: Any) -> str:
    name = str(value or "").strip()
    if not name or len(name) > NAME_CHARS:
        raise InvalidInput(f"Give the endpoint a name of 1 to {NAME_CHARS} characters, "
                           "e.g. “Website CMS”.", errors={"name": ["1 to 100 characters"]})
    return name


def _events(value: Any) -> list[str]:
    if value is None:
        return [WebhookEvent.ASSET_SIGNED.value]
    events = list(dict.fromkeys(str(v) for v in value))
    unknown = [e for e in events if e not in WebhookEvent.values]
    if unknown or not events:
        raise InvalidInput(f"Choose events among {', '.join(WebhookEvent.values)}.",
                           errors={"events": [f"unknown: {', '.join(unknown)}" if unknown
                                              else "choose at least one"]})
    return events


def _url(value: Any) -> str:
    try:
        return check_url(str(value or ""))
    except UnreachableHost as exc:
        raise InvalidInput(f"{exc} Check the address.",
                           errors={"url": ["host not found"]}) from None


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What an audit event says of an endpoint: never the secret."""
    return {"name": endpoint.name, "url": endpoint.url, "events": endpoint.events,
            "active": endpoint.active}


def create_endpoint(user: Any, project: Any, *, name: Any, url: Any, events: Any = None,
                    active: bool = True) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it and its secret, which is shown this once."""
    project = _project(user, project)
    endpoint = WebhookEndpoint(project=project, name=_name(name), url=_url(url),
                               events=_events(events), active=bool(active),
                               secret="whsec_" + secrets.token_urlsafe(32), created_by=user)
    with transaction.atomic():
        endpoint.save()
        record("publishing.endpoint.created", target=endpoint, actor=actor_for(user),
               data={"after": _snapshot(endpoint)})
    return endpoint, endpoint.secret


def update_endpoint(user: Any, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change name, URL, events or active; the secret stays (add a new endpoint to
    change it)."""
    _project(user, endpoint.project_id)
    before = _snapshot(endpoint)
    if "name" in changes:
        endpoint.name = _name(changes["name"])
    if "url" in changes and str(changes["url"] or "").strip() != endpoint.url:
        endpoint.url = _url(changes["url"])  # checked again only when it changes
    if "events" in changes:
        endpoint.events = _events(changes["events"])
    if "active" in changes:
        endpoint.active = bool(changes["active"])
    after = _snapshot(endpoint)
    if after == before:
        return endpoint
    with transaction.atomic():
        endpoint.save()
        record("publishing.endpoint.updated", target=endpoint, actor=actor_for(user),
               data={"before": before, "after": after})
    return endpoint


def delete_endpoint(user: Any, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log (the audit log keeps what happened)."""
    _project(user, endpoint.project_id)
    with transaction.atomic():
        record("publishing.endpoint.deleted", target=endpoint, actor=actor_for(user),
               data={"before": _snapshot(endpoint)})
        endpoint.delete()


def _queue(delivery: Delivery) -> None:
    transaction.on_commit(partial(queue_delivery, str(delivery.pk), delivery.correlation_id))


def send_ping(user: Any, endpoint: WebhookEndpoint) -> Delivery:
    """Queue a test ping to the endpoint (sent even while it is turned off)."""
    _project(user, endpoint.project_id)
    with transaction.atomic():
        delivery = Delivery.objects.create(
            project_id=endpoint.project_id, endpoint=endpoint, publisher=endpoint.publisher,
            target=str(endpoint.pk), event=PING, requested_by=user,
            max_attempts=settings.ASSAY_WEBHOOK_MAX_ATTEMPTS,
            correlation_id=current().correlation_id)
        record("publishing.ping.requested", target=endpoint, actor=actor_for(user),
               data={"delivery": str(delivery.pk), "event_id": str(delivery.event_id)})
        _queue(delivery)
    return delivery


def redeliver(user: Any, delivery: Delivery) -> Delivery:
    """Send a delivery again as a new one (same event id, fresh attempts)."""
    _project(user, delivery.project_id)
    original = delivery.redelivery_of or delivery
    with transaction.atomic():
        again = Delivery.objects.create(
            project_id=delivery.project_id, endpoint_id=delivery.endpoint_id,
            publisher=delivery.publisher, target=delivery.target, asset_id=delivery.asset_id,
            signed_id=delivery.signed_id, event=delivery.event, event_id=delivery.event_id,
            redelivery_of=original, requested_by=user, status=DeliveryStatus.PENDING,
            max_attempts=settings.ASSAY_WEBHOOK_MAX_ATTEMPTS,
            correlation_id=current().correlation_id)
        record("publishing.delivery.redelivered", target=again, actor=actor_for(user),
               project_id=delivery.project_id,
               data={"delivery": str(again.pk), "of": str(delivery.pk),
                     "event_id": str(again.event_id), "event": again.event})
        _queue(again)
    return again
