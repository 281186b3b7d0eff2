"""Owners' webhooks screen: add, change or turn off endpoints, send a test ping, read the
delivery log with each attempt's answer, and redeliver.

Everything goes through ``governance.publishing.services``, which the REST twin calls
too. Owners (and platform admins) only: other members get a 403 in words, outsiders a
404. A new endpoint's secret is on the page that created it, once (``never_cache``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from assay.core.exceptions import AssayError, InvalidInput, NotFound, NotPermitted
from assay.studio.models import Project
from governance.publishing import services
from governance.publishing.choices import PING, DeliveryStatus, WebhookEvent

#: Newest deliveries listed on an endpoint's page (REST pages through all of them).
LOG_ROWS = 50
_BADGES = {DeliveryStatus.PENDING: "badge-queued", DeliveryStatus.RETRYING: "badge-running",
           DeliveryStatus.SUCCEEDED: "badge-succeeded", DeliveryStatus.FAILED: "badge-failed"}
_EVENT_WORDS = {PING: "Test ping", WebhookEvent.ASSET_SIGNED: "Asset approved and signed"}


class WebhookForm(forms.Form):
    """Shape only: the service checks the address (http(s), not local) and the events."""

    name = forms.CharField(max_length=services.NAME_CHARS, strip=True,
                           help_text="What receives it, e.g. “Website CMS”.")
    url = forms.CharField(max_length=500, strip=True, label="Address",
                          help_text="Assay sends a signed POST here each time an asset is "
                                    "approved and signed. Must start with https:// (or "
                                    "http://).")
    active = forms.BooleanField(required=False, initial=True, label="Turned on",
                                help_text="When off, nothing is sent (a test ping still is).")


def _refused(request: HttpRequest, exc: AssayError, project: Any = None) -> HttpResponse:
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    return render(request, "portal/refused.html", {"project": project, "message": exc.message},
                  status=exc.status_code)


def _put_errors(form: forms.Form, exc: AssayError) -> None:
    field = next((k for k in exc.errors if k in form.fields), None)
    form.add_error(field, exc.message)


def _rows(endpoint: Any) -> list[dict[str, Any]]:
    return [{"delivery": d, "badge": _BADGES.get(d.status, "badge-queued"),
             "event": _EVENT_WORDS.get(d.event, d.event), "tries": list(d.tries.all())}
            for d in services.deliveries_of(endpoint)[:LOG_ROWS]]


@login_required
@never_cache  # the page may show a new secret: no cache may keep it
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's endpoints and the form to add one; after adding, its secret, once."""
    try:
        project = services.managed_project(request.user, slug)
    except (NotFound, NotPermitted) as exc:
        project = Project.objects.visible_to(request.user).filter(slug=slug).first()
        return _refused(request, exc, project)
    endpoints = list(services.endpoints_in(project))
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.create_endpoint(request.user, project,
                                                        **form.cleaned_data)
        except InvalidInput as exc:
            _put_errors(form, exc)
        else:
            created = {"endpoint": endpoint, "secret": secret}
            endpoints.append(endpoint)
            form = WebhookForm()
    return render(request, "portal/webhooks.html", {
        "project": project, "endpoints": endpoints, "form": form, "created": created,
    }, status=400 if form.is_bound and form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, slug: str, webhook_id: int) -> HttpResponse:
    """One endpoint: change it or turn it off, ping it, and its delivery log."""
    try:
        endpoint = services.endpoint_of(request.user, slug, webhook_id)
    except (NotFound, NotPermitted) as exc:
        project = Project.objects.visible_to(request.user).filter(slug=slug).first()
        return _refused(request, exc, project)
    initial = {"name": endpoint.name, "url": endpoint.url, "active": endpoint.active}
    form = WebhookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(request.user, endpoint, **form.cleaned_data)
        except InvalidInput as exc:
            _put_errors(form, exc)
        else:
            messages.info(request, f"Saved “{endpoint.name}”"
                          + ("." if endpoint.active else ": it is turned off."))
            return redirect("portal:webhook", slug, endpoint.pk)
    return render(request, "portal/webhook.html", {
        "project": endpoint.project, "endpoint": endpoint, "form": form,
        "rows": _rows(endpoint), "log_rows": LOG_ROWS,
    }, status=400 if form.is_bound and form.errors else 200)


@login_required
@require_POST
def webhook_ping(request: HttpRequest, slug: str, webhook_id: int) -> HttpResponse:
    """Queue a test ping, then back to the endpoint's log."""
    try:
        endpoint = services.endpoint_of(request.user, slug, webhook_id)
        services.send_ping(request.user, endpoint)
    except (NotFound, NotPermitted) as exc:
        return _refused(request, exc)
    messages.info(request, "Test ping sent: its delivery appears in the log below.")
    return redirect("portal:webhook", slug, endpoint.pk)


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, slug: str, delivery_id: Any) -> HttpResponse:
    """Send a delivery again (a new delivery, same event), then back to its endpoint."""
    try:
        delivery = services.delivery_of(request.user, delivery_id)
        if delivery.project.slug != slug:
            raise NotFound("No such delivery in this project.")
        services.redeliver(request.user, delivery)
    except (NotFound, NotPermitted) as exc:
        return _refused(request, exc)
    messages.info(request, "Sent again: the new delivery is at the top of the log.")
    if delivery.endpoint_id:
        return redirect("portal:webhook", slug, delivery.endpoint_id)
    return redirect("portal:webhooks", slug)
