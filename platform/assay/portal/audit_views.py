"""The auditors' screens: the audit browser (with the chain's status and "verify now") and
the usage dashboard.

Both are faces over the services REST uses: the audit browser reads its filters through
governance.audit.filters (the one FilterSet of ``/api/v1/audit/events/``), pages with the
same cursor, verifies through ``verify_and_record`` and exports through the REST export;
the usage dashboard asks governance.usage.services for the same roll-ups as
``/api/v1/usage/`` and links to its CSV. Only auditors and platform admins get in; everyone
else is told so in words (403).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from assay.audit.context import actor_for
from assay.audit.models import AuditEvent
from assay.audit.verify import verify_and_record
from assay.core.exceptions import InvalidInput, NotPermitted
from assay.plugins.manager import get_plugins
from assay.portal.words import generator_words
from assay.studio.models import Project
from governance.audit.api import EventCursor, event_row
from governance.audit.filters import EventFilter, EventFilterSet
from governance.usage import services as usage
from governance.usage.filters import UsageFilter
from governance.usage.models import UsageRecord

#: Events per page of the browser (the REST default is 50; a screen reads fewer at once).
PAGE_ROWS = 25
REFUSAL = ("Only auditors and platform admins can read the audit log and usage across "
           "projects. Ask a platform admin if you need this.")
#: The REST filters' names on this page.
FILTER_LABELS = {"actor": "Who", "action": "Action", "project": "Project",
                 "target_type": "Kind of target", "target_id": "Target id",
                 "correlation_id": "Request id", "since": "From", "until": "Before"}
#: Chart groups (the usage roll-up's group_by) and their headings.
CHARTS = (("day", "By day", "Day"), ("project", "By project", "Project"),
          ("user", "By person", "Person"), ("generator", "By generator", "Generator"),
          ("model", "By model", "Model"))
#: What a chart can count; tokens are input and output tokens together.
METRICS = (("jobs", "Jobs"), ("images", "Images"), ("tokens", "Tokens"),
           ("accelerator_seconds", "Accelerator seconds"))


def _may_audit(user: Any) -> bool:
    return bool(getattr(user, "is_auditor", False) or getattr(user, "is_platform_admin", False))


def _refused(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/refused.html", {"message": REFUSAL}, status=403)


# --- the audit browser ------------------------------------------------------------------

def chain_status() -> dict[str, Any]:
    """The newest recorded verification, for the badge ("Chain intact, verified 2 minutes
    ago" or "Broken at event N"); ``state`` is ``unknown`` before the first one."""
    last = (AuditEvent.objects.filter(action="audit.chain.verified").order_by("-id")
            .values("created_at", "data", "actor_display").first())
    if last is None:
        return {"state": "unknown"}
    data = last["data"] if isinstance(last["data"], dict) else {}
    return {"state": "ok" if data.get("ok") else "broken", "at": last["created_at"],
            "by": last["actor_display"], "first_bad_seq": data.get("first_bad_seq"),
            "events": data.get("events")}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def in_words(display: str) -> str:
    """A frozen target name ("dummy-echo job 1a2b3c4d") with generator ids in words; the
    name as recorded stays in the event's Details fold."""
    for gid in get_plugins().generators:
        if gid in display:
            display = re.sub(rf"(?<![\w-]){re.escape(gid)}(?![\w-])",
                             generator_words(gid), display)
    return display


def _shown(event: AuditEvent, projects: dict[int, str]) -> dict[str, Any]:
    row = event_row(event, projects)
    row["target_words"] = in_words(row["target"]["display"])
    data = row["data"]
    changed = isinstance(data, dict) and ("before" in data or "after" in data)
    return {**row, "created_at": event.created_at, "data_json": _pretty(data),
            "before_json": _pretty(data.get("before")) if changed else "",
            "after_json": _pretty(data.get("after")) if changed else "", "changed": changed}


def _relative(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _filter_form(params: Any) -> Any:
    form = EventFilterSet(params, queryset=AuditEvent.objects.none()).form
    for name, label in FILTER_LABELS.items():
        form.fields[name].label = label
    for name in ("since", "until"):
        form.fields[name].widget.input_type = "datetime-local"
        form.fields[name].help_text = ("From this time, included (UTC)." if name == "since"
                                       else "Before this time (UTC).")
    return form


@login_required
@require_GET
def audit_browser(request: HttpRequest) -> HttpResponse:
    """Filtered events, newest first, a page at a time; each with its data in a fold."""
    if not _may_audit(request.user):
        return _refused(request)
    error, events, links = "", [], {"next": None, "previous": None}
    filters = EventFilter()
    try:
        filters = EventFilter.from_params(request.GET)
        paginator = EventCursor()
        paginator.page_size = PAGE_ROWS
        page = paginator.paginate_queryset(filters.apply(AuditEvent.objects.all()),
                                           Request(request))
        ids = {e.project_id for e in page if e.project_id}
        projects = dict(Project.objects.filter(pk__in=ids).values_list("pk", "slug"))
        events = [_shown(e, projects) for e in page]
        links = {"next": _relative(paginator.get_next_link()),
                 "previous": _relative(paginator.get_previous_link())}
    except InvalidInput as exc:
        error = exc.message
    except ValidationError as exc:  # a cursor this page did not hand out
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        error = " ".join(str(m) for msgs in detail.values() for m in msgs) or str(exc)
    query = urlencode(filters.as_dict())
    export = reverse("api:audit-export")
    return render(request, "portal/audit.html", {
        "form": _filter_form(request.GET), "events": events, "links": links, "error": error,
        "filtered": bool(filters.as_dict()), "chain": chain_status(), "query": query,
        "export_csv": f"{export}?{urlencode({**filters.as_dict(), 'format': 'csv'})}",
        "export_jsonl": f"{export}?{urlencode({**filters.as_dict(), 'format': 'jsonl'})}",
    }, status=400 if error else 200)


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """"Verify now": the check ``GET /api/v1/audit/verify/`` runs, recorded the same way."""
    if not _may_audit(request.user):
        return _refused(request)
    result = verify_and_record(actor=actor_for(request.user), via="portal")
    if result.ok:
        messages.success(request, f"The audit log holds: {result.events} events checked.")
    else:
        messages.error(request, f"The audit log does not hold: {result.summary}")
    query = request.POST.get("query", "")
    target = reverse("portal:audit")
    return redirect(f"{target}?{query}" if query and len(query) < 2000 else target)


# --- the usage dashboard ----------------------------------------------------------------

def _usage_form(params: Any) -> Any:
    form = UsageFilter(params, queryset=UsageRecord.objects.none()).form
    del form.fields["group_by"]
    for name in ("since", "until"):
        form.fields[name].widget.input_type = "date"
    for name, label in (("since", "From day"), ("until", "To day"), ("project", "Project"),
                        ("team", "Team"), ("user", "Person")):
        form.fields[name].label = label
    form.fields["user"].help_text = "A username."
    return form


def _chart_rows(group: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    shown = []
    for row in rows:
        value = row.get(group)
        label = ("(none)" if value in (None, "") else
                 generator_words(value) if group == "generator" else str(value))
        shown.append({"label": label, "jobs": row["jobs"], "images": row["images"],
                      "tokens": row["input_tokens"] + row["output_tokens"],
                      "accelerator_seconds": row["accelerator_seconds"]})
    return shown


def usage_charts(user: Any, params: Any) -> list[dict[str, Any]]:
    """One chart per group: the REST roll-up's rows and totals for the same filters.

    Raises:
        NotPermitted: not an auditor or admin.
        InvalidInput: a bad filter (checked once, before any roll-up runs).
    """
    base = {name: params.get(name) for name in UsageFilter.base_filters
            if name != "group_by" and params.get(name)}
    usage.usage_query(user, base)
    csv = reverse("api:usage")
    charts = []
    for group, title, column in CHARTS:
        grouped = usage.usage_query(user, {**base, "group_by": group})
        report = usage.usage_report(user, grouped)
        totals = report["totals"]
        charts.append({
            "group": group, "title": title, "column": column,
            "rows": _chart_rows(group, report["rows"]),
            "totals": {"jobs": totals["jobs"], "images": totals["images"],
                       "tokens": totals["input_tokens"] + totals["output_tokens"],
                       "accelerator_seconds": totals["accelerator_seconds"]},
            "csv": csv + "?" + urlencode({**grouped.as_params(), "group_by": group,
                                          "format": "csv"})})
    return charts


@login_required
@require_GET
def usage_dashboard(request: HttpRequest) -> HttpResponse:
    """Usage charts by day, project, person, generator and model, each with its table."""
    if not _may_audit(request.user):
        return _refused(request)
    metric = request.GET.get("metric") or "jobs"
    if metric not in dict(METRICS):
        metric = "jobs"
    error, charts = "", []
    try:
        charts = usage_charts(request.user, request.GET)
    except NotPermitted:
        return _refused(request)
    except InvalidInput as exc:
        error = exc.message
    return render(request, "portal/usage.html", {
        "form": _usage_form(request.GET), "charts": charts, "metrics": METRICS,
        "metric": metric, "metric_label": dict(METRICS)[metric], "error": error,
    }, status=400 if error else 200)
