"""Usage records, setting quotas, what is left, and the auditors' roll-ups and export."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from assay.accounts.choices import Capability
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import InvalidInput, NotPermitted
from assay.core.inputs import BIGINT_MAX, echo
from assay.generation.models import GenerationJob
from assay.studio.models import Membership, Project
from assay.studio.services.projects import require_capability
from governance.usage import quotas as q
from governance.usage.choices import Metric, QuotaScope
from governance.usage.filters import GROUPS, UsageFilter
from governance.usage.models import Quota, UsageRecord

# --- records -----------------------------------------------------------------------------


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value or 0.0))
    except (TypeError, ValueError):
        return 0.0


def record_usage(job: GenerationJob) -> UsageRecord:
    """Freeze a succeeded job's usage; the worker calls it in the job's final transaction.

    Idempotent (one record per job). No audit event of its own: the
    ``studio.generation.succeeded`` event written in the same transaction carries the
    same usage.
    """
    usage = job.usage or {}
    finished = (job.finished_at or timezone.now()).astimezone(dt.UTC)
    model = job.model_ref or {}
    record_row, _ = UsageRecord.objects.get_or_create(job=job, defaults={
        "user_id": job.requested_by_id, "team_id": job.project.team_id,
        "project_id": job.project_id, "generator_id": job.generator_id,
        "model_name": str(model.get("name") or model.get("source") or "")[:300],
        "day": finished.date(), "jobs": 1, "images": _int(usage.get("images")),
        "input_tokens": _int(usage.get("input_tokens")),
        "output_tokens": _int(usage.get("output_tokens")),
        "steps": _int(usage.get("steps")),
        "wall_seconds": _seconds(usage.get("wall_seconds")),
        "accelerator_seconds": _seconds(usage.get("accelerator_seconds")),
    })
    return record_row


# --- quotas ------------------------------------------------------------------------------


def _is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_platform_admin", False))


def _check_may_set(actor: Any, scope: str, target: Any, project: Project | None) -> None:
    """Admins set any quota; project owners their project's and its members' quotas."""
    if actor is None or _is_admin(actor):
        return
    if scope == QuotaScope.PROJECT:
        require_capability(actor, target, Capability.MANAGE, doing="set quotas")
        return
    if scope == QuotaScope.USER and project is not None:
        require_capability(actor, project, Capability.MANAGE, doing="set quotas")
        return
    what = "team quotas" if scope == QuotaScope.TEAM else "quotas that span every project"
    raise NotPermitted(f"Only platform admins can set {what}.",
                       errors={"scope": [f"{scope}: admins only"]})


_DIGITS = re.compile(r"[0-9]{1,19}")


def _limit(value: Any) -> int:
    """A whole number from 0 to bigint's largest (an int, or its ASCII digits from the
    command line; not a bool, a fraction, "²" or 5,000 digits)."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= BIGINT_MAX:
        return value
    raise InvalidInput(f"The limit must be a whole number from 0 to {BIGINT_MAX}.",
                       errors={"limit": [f"must be a whole number from 0 to {BIGINT_MAX}"]})


def set_quota(actor: Any, scope: str, target: Any, metric: str, limit: Any, *,
              project: Project | None = None) -> Quota:
    """Create or change a monthly quota and record ``usage.quota.set``.

    Args:
        actor: the user doing it; None for the operator (``manage.py set_quota``).
        scope: "team", "project" or "user".
        target: the Team, Project or User the quota limits.
        metric: "jobs", "images", "tokens" or "accelerator_seconds".
        limit: a whole number ≥ 0 per calendar month (UTC).
        project: for a user quota, limit the user's work in this project only.

    Raises:
        InvalidInput, NotPermitted, NotFound: with a message that says what to fix.
    """
    if scope not in QuotaScope.values:
        raise InvalidInput(f"Unknown scope {echo(scope)!r}; use one of "
                           f"{', '.join(QuotaScope.values)}.", errors={"scope": ["unknown scope"]})
    _check_may_set(actor, scope, target, project)
    if metric not in Metric.values:
        raise InvalidInput(f"Unknown metric {echo(metric)!r}; use one of "
                           f"{', '.join(Metric.values)}.", errors={"metric": ["unknown metric"]})
    limit = _limit(limit)
    lookup: dict[str, Any] = {"scope": scope, "metric": metric, "team": None, "project": None,
                              "user": None}
    if scope == QuotaScope.TEAM:
        lookup["team"] = target
    elif scope == QuotaScope.PROJECT:
        lookup["project"] = target
    else:
        lookup["user"], lookup["project"] = target, project
        if project is not None and not Membership.objects.filter(
                project=project, user=target).exists():
            raise InvalidInput(f"{target.get_username()} is not a member of project "
                               f"'{project.slug}'.", errors={"user": ["not a member"]})
    with transaction.atomic():
        quota = Quota.objects.select_for_update().filter(**lookup).first()
        before = quota.limit if quota else None
        if quota is None:
            quota = Quota.objects.create(limit=limit, **lookup)
        elif quota.limit != limit:
            quota.limit = limit
            quota.save(update_fields=["limit", "updated_at"])
        if before != limit:
            record("usage.quota.set", target=quota, actor=actor_for(actor) if actor else None,
                   data={"scope": scope, "metric": metric, "subject": quota.subject,
                         "team": lookup["team"].slug if lookup["team"] else None,
                         "project": lookup["project"].slug if lookup["project"] else None,
                         "user": lookup["user"].get_username() if lookup["user"] else None,
                         "before": before, "after": limit})
    return quota


@transaction.atomic
def set_project_quota(actor: Any, project: Project, body: Mapping[str, Any]) -> dict[str, Any]:
    """The REST form: ``{"scope", "metric", "limit", "user"}`` against a project.

    ``team`` means the project's team (admins only), ``project`` the project, ``user`` a
    member's work in this project (``user`` is their username). One transaction: checks,
    the write and its audit event, and the answer read back.
    """
    scope = str(body.get("scope") or "")
    if scope in QuotaScope.values:  # who may, before anything about the target is said
        _check_may_set(actor, scope, project.team if scope == QuotaScope.TEAM else project,
                       project if scope == QuotaScope.USER else None)
    target: Any
    member_project: Project | None = None
    if scope == QuotaScope.TEAM:
        target = project.team
    elif scope == QuotaScope.PROJECT:
        target = project
    elif scope == QuotaScope.USER:
        username = str(body.get("user") or "")
        target = get_user_model().objects.filter(username=username).first()
        if target is None or not Membership.objects.filter(project=project,
                                                          user=target).exists():
            raise InvalidInput(f"No member {echo(username)!r} in project '{project.slug}'.",
                               errors={"user": ["not a member of this project"]})
        member_project = project
    else:
        raise InvalidInput(f"Unknown scope {echo(scope)!r}; use one of "
                           f"{', '.join(QuotaScope.values)}.", errors={"scope": ["unknown scope"]})
    quota = set_quota(actor, scope, target, str(body.get("metric") or ""), body.get("limit"),
                      project=member_project)
    return q.status(Quota.objects.select_related("team", "project", "user").get(pk=quota.pk))


def quotas_for(viewer: Any, project: Project) -> dict[str, Any]:
    """The quotas a member sees on a project, each with what is left this month.

    Owners, auditors and admins see the team's, the project's and every member's quota in
    this project; others see the quotas that apply to them. Call after checking that the
    viewer may see the project.
    """
    mine = Q(pk__in=Quota.objects.filter(q.applicable(project, viewer)).values("pk"))
    shown = mine
    if Project.objects.visible_to(viewer, Capability.MANAGE).filter(pk=project.pk).exists() \
            or getattr(viewer, "is_auditor", False):
        shown = mine | Q(scope=QuotaScope.TEAM, team_id=project.team_id) | Q(project=project)
    rows = Quota.objects.filter(shown).select_related("team", "project", "user")
    applying = set(Quota.objects.filter(q.applicable(project, viewer)).values_list("pk",
                                                                                 flat=True))
    now = timezone.now()
    *_, resets = q.month_window(now)
    return {
        "project": project.slug, "team": project.team.slug,
        "resets_at": resets.isoformat().replace("+00:00", "Z"),
        "quotas": [{**q.status(quota, now), "applies_to_you": quota.pk in applying}
                   for quota in q.ordered(rows)],
    }


# --- roll-ups ----------------------------------------------------------------------------

SUMS = ("jobs", "images", "input_tokens", "output_tokens", "steps", "wall_seconds",
        "accelerator_seconds")


@dataclass(frozen=True)
class UsageQuery:
    """A parsed ``GET /api/v1/usage/`` request: grouping, date range and filters."""

    group_by: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    project: str = ""
    team: str = ""
    user: str = ""

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters (what :class:`UsageFilter` reads)."""
        data = {name: value for name, value in self.as_filter().items()
                if name != "group_by" and value}
        return data

    def as_filter(self) -> dict[str, Any]:
        """JSON-ready, for the export's audit event."""
        data = asdict(self)
        data["group_by"] = list(self.group_by)
        data["since"] = self.since.isoformat() if self.since else None
        data["until"] = self.until.isoformat() if self.until else None
        return data


def require_usage_reader(user: Any) -> None:
    """Usage across projects is for auditors and admins only."""
    if not (getattr(user, "is_auditor", False) or _is_admin(user)):
        raise NotPermitted("Only auditors and platform admins can read usage across projects; "
                           "project members see their quotas at /api/v1/projects/<slug>/quotas/.")


def _refusal(errors: Mapping[str, list[str]]) -> InvalidInput:
    messages = {name: [str(m) for m in msgs] for name, msgs in errors.items()}
    sentence = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in messages.items())
    return InvalidInput(sentence or "The query is invalid.", errors=messages)


def usage_query(viewer: Any, params: Mapping[str, Any]) -> UsageQuery:
    """Check the viewer may read usage, then parse the query parameters (django-filter).

    Raises:
        NotPermitted: not an auditor or admin (checked first, so others learn nothing).
        InvalidInput: an unknown group, a malformed date, since after until, text too long
            or with a NUL character.
    """
    require_usage_reader(viewer)
    filters = UsageFilter(params, queryset=UsageRecord.objects.none())
    if not filters.is_valid():
        raise _refusal(filters.errors)
    data = filters.form.cleaned_data
    groups = tuple(g.strip() for g in (data.get("group_by") or "").split(",") if g.strip())
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise InvalidInput(f"Cannot group by {echo(', '.join(unknown))}; use any of "
                           f"{', '.join(GROUPS)}.", errors={"group_by": ["unknown group"]})
    since, until = data.get("since"), data.get("until")
    if since and until and since > until:
        raise InvalidInput("since must not be after until.", errors={"since": ["after until"]})
    return UsageQuery(group_by=tuple(dict.fromkeys(groups)), since=since, until=until,
                      project=data.get("project") or "", team=data.get("team") or "",
                      user=data.get("user") or "")


def _records(viewer: Any, query: UsageQuery) -> QuerySet:
    require_usage_reader(viewer)
    return UsageFilter(query.as_params(), queryset=UsageRecord.objects.visible_to(viewer)).qs


def _row(raw: dict[str, Any], groups: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for group in groups:
        value = raw[GROUPS[group]]
        row[group] = value.isoformat() if isinstance(value, dt.date) else value
    for name in SUMS:
        value = raw[name] or 0
        row[name] = round(float(value), 4) if name.endswith("seconds") else int(value)
    return row


def rollup(viewer: Any, query: UsageQuery) -> Iterator[dict[str, Any]]:
    """Summed usage per group (one row of totals when nothing is grouped), sorted."""
    qs = _records(viewer, query)
    sums = {name: Sum(name) for name in SUMS}
    if not query.group_by:
        yield _row(qs.aggregate(**sums), ())
        return
    columns = [GROUPS[g] for g in query.group_by]
    for raw in qs.order_by().values(*columns).annotate(**sums).order_by(*columns).iterator():
        yield _row(raw, query.group_by)


def usage_report(viewer: Any, query: UsageQuery) -> dict[str, Any]:
    """The JSON answer: the query echoed, the rows and their totals."""
    rows = list(rollup(viewer, query))
    totals = {name: sum(r[name] for r in rows) for name in SUMS}
    for name in SUMS:
        if name.endswith("seconds"):
            totals[name] = round(totals[name], 4)
    return {**query.as_filter(), "rows": rows, "totals": totals}


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def export_csv(viewer: Any, query: UsageQuery) -> Iterator[str]:
    """Record ``usage.report.exported`` now, then return the CSV lines to stream."""
    require_usage_reader(viewer)
    with transaction.atomic():
        record("usage.report.exported", actor=actor_for(viewer), data={"filter":
                                                                        query.as_filter()})
    return _csv_lines(viewer, query)


def _csv_lines(viewer: Any, query: UsageQuery) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([*query.group_by, *SUMS])
    for row in rollup(viewer, query):
        yield writer.writerow([row[name] for name in (*query.group_by, *SUMS)])
