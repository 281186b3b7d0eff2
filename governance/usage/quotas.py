"""Monthly quotas: what applies to a submission, how much is used, and the refusal.

A quota counts, for its team, project or user, in the current calendar month (UTC):

* **used**: the usage records of jobs that succeeded this month (a record's day is the
  UTC date its job finished; failed and cancelled jobs write none and count nothing);
* **reserved**: every job still queued or running (whenever it was submitted, since its
  usage will land in this month): 1 job each, ``num_images`` (or 1) images for image
  generators, ``max_new_tokens`` (or 0) tokens for text generators, 0 accelerator-seconds
  (not knowable before the job runs).

A submission is refused when a quota that applies to it is exhausted (used + reserved ≥
limit) or when its own reservation would take it past the limit. ``jobs`` and
``accelerator_seconds`` quotas apply to every job, ``images`` to image generators and
``tokens`` to text generators. Accelerator-seconds and tokens beyond ``max_new_tokens``
(prompt tokens) are known only afterwards, so those quotas can be overshot by the jobs in
flight when they run out; jobs and images cannot.

``check_quotas`` locks the applicable Quota rows (SELECT … FOR UPDATE, in primary-key
order) inside the transaction that inserts the job, so concurrent submissions against
the same quota take turns and each one counts the jobs the others queued.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from assay.core.exceptions import QuotaExceeded
from assay.generation.choices import TERMINAL_STATUSES
from assay.generation.models import GenerationJob
from assay.plugins.contracts import Generator
from governance.usage.choices import Metric, QuotaScope
from governance.usage.models import Quota, UsageRecord

log = logging.getLogger(__name__)

UTC = dt.UTC

#: The order quotas are checked and listed in (the lock order is the primary key).
_SCOPE_ORDER = {QuotaScope.TEAM: 0, QuotaScope.PROJECT: 1, QuotaScope.USER: 2}
_METRIC_ORDER = {m: i for i, m in enumerate(Metric.values)}


def month_window(now: dt.datetime | None = None) -> tuple[dt.date, dt.date, dt.datetime]:
    """This month's first day, next month's first day, and the reset moment (UTC)."""
    now = (now or timezone.now()).astimezone(UTC)
    start = dt.date(now.year, now.month, 1)
    following = dt.date(now.year + now.month // 12, now.month % 12 + 1, 1)
    return start, following, dt.datetime(following.year, following.month, 1, tzinfo=UTC)


def applicable(project: Any, user: Any) -> Q:
    """Quotas that limit ``user``'s submissions in ``project``."""
    return (Q(scope=QuotaScope.TEAM, team_id=project.team_id)
            | Q(scope=QuotaScope.PROJECT, project=project)
            | Q(scope=QuotaScope.USER, user=user, project__isnull=True)
            | Q(scope=QuotaScope.USER, user=user, project=project))


def metric_applies(metric: str, modality: str) -> bool:
    """Images quotas limit image jobs, tokens quotas text jobs; the others every job."""
    if metric == Metric.IMAGES:
        return modality == "image"
    if metric == Metric.TOKENS:
        return modality == "text"
    return True


def reservation(modality: str, parameters: dict[str, Any]) -> dict[str, float]:
    """What a job counts against quotas before it has finished."""
    return {
        Metric.JOBS: 1,
        Metric.IMAGES: _whole(parameters.get("num_images") or 1) if modality == "image" else 0,
        # Every text variant may write up to max_new_tokens.
        Metric.TOKENS: (_whole(parameters.get("max_new_tokens") or 0)
                        * max(1, _whole(parameters.get("num_variants") or 1))
                        if modality == "text" else 0),
        Metric.ACCELERATOR_SECONDS: 0,
    }


def _whole(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _records_in_scope(quota: Quota) -> Q:
    if quota.scope == QuotaScope.TEAM:
        return Q(team_id=quota.team_id)
    if quota.scope == QuotaScope.PROJECT:
        return Q(project_id=quota.project_id)
    if quota.project_id:
        return Q(user_id=quota.user_id, project_id=quota.project_id)
    return Q(user_id=quota.user_id)


def _jobs_in_scope(quota: Quota) -> Q:
    if quota.scope == QuotaScope.TEAM:
        return Q(project__team_id=quota.team_id)
    if quota.scope == QuotaScope.PROJECT:
        return Q(project_id=quota.project_id)
    if quota.project_id:
        return Q(requested_by_id=quota.user_id, project_id=quota.project_id)
    return Q(requested_by_id=quota.user_id)


_USED = {
    Metric.JOBS: Sum("jobs"),
    Metric.IMAGES: Sum("images"),
    Metric.TOKENS: Sum(F("input_tokens") + F("output_tokens")),
    Metric.ACCELERATOR_SECONDS: Sum("accelerator_seconds"),
}


def consumption(quota: Quota, now: dt.datetime | None = None) -> tuple[float, float]:
    """(used by jobs that succeeded this month, reserved by jobs queued or running)."""
    start, following, _ = month_window(now)
    used = UsageRecord.objects.filter(_records_in_scope(quota), day__gte=start,
                                      day__lt=following).aggregate(n=_USED[quota.metric])["n"]
    in_flight = GenerationJob.objects.filter(_jobs_in_scope(quota)).exclude(
        status__in=TERMINAL_STATUSES)
    if quota.metric == Metric.JOBS:
        reserved: float = in_flight.count()
    elif quota.metric == Metric.ACCELERATOR_SECONDS:
        reserved = 0
    else:
        reserved = sum(reservation(modality, params or {})[quota.metric]
                       for modality, params in in_flight.values_list("modality", "parameters"))
    return _tidy(used or 0), _tidy(reserved)


def _tidy(value: float) -> float:
    """Whole numbers as ints, seconds to two decimals (what people read)."""
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


def status(quota: Quota, now: dt.datetime | None = None) -> dict[str, Any]:
    """A quota with its limit, used, reserved, left and reset time, ready for JSON."""
    used, reserved = consumption(quota, now)
    return _describe(quota, used, reserved, now)


def _describe(quota: Quota, used: float, reserved: float,
              now: dt.datetime | None) -> dict[str, Any]:
    *_, resets = month_window(now)
    return {
        "id": quota.pk, "scope": quota.scope, "subject": quota.subject,
        "team": quota.team.slug if quota.team_id else None,
        "project": quota.project.slug if quota.project_id else None,
        "user": quota.user.get_username() if quota.user_id else None,
        "metric": quota.metric, "limit": quota.limit, "used": used, "reserved": reserved,
        "left": _tidy(max(0, quota.limit - used - reserved)),
        "resets_at": resets.isoformat().replace("+00:00", "Z"),
    }


def ordered(quotas: Iterable[Quota]) -> list[Quota]:
    """Team, then project, then user quotas; jobs, images, tokens, accelerator-seconds."""
    return sorted(quotas, key=lambda q: (_SCOPE_ORDER[q.scope], q.project_id is not None,
                                         _METRIC_ORDER[q.metric], q.pk))


def usage_left(project: Any, user: Any, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every quota that applies to ``user`` in ``project``: limit, used, left, reset."""
    quotas = Quota.objects.filter(applicable(project, user)).select_related(
        "team", "project", "user")
    return [status(q, now) for q in ordered(quotas)]


def check_quotas(user: Any, project: Any, generator_cls: type[Generator],
                 parameters: dict[str, Any]) -> None:
    """Refuse a submission that would go past a quota; call it in the job's transaction.

    Locks the applicable quotas so that submissions against the same quota are
    serialised: the second one waits, then counts the job the first one queued.

    Raises:
        QuotaExceeded: naming the first quota (team, project, user) it would exceed.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("check_quotas must run inside the transaction that writes the job")
    locked = list(Quota.objects.filter(applicable(project, user)).order_by("pk")
                  .select_for_update())
    if not locked:
        return
    now = timezone.now()
    wanted = reservation(generator_cls.modality, parameters)
    for quota in ordered(locked):
        if not metric_applies(quota.metric, generator_cls.modality):
            continue
        used, reserved = consumption(quota, now)
        asked = wanted[quota.metric]
        taken = used + reserved
        if taken >= quota.limit or taken + asked > quota.limit:
            raise _refusal(quota, used=used, reserved=reserved, asked=asked, now=now)


def _refusal(quota: Quota, *, used: float, reserved: float, asked: float,
             now: dt.datetime) -> QuotaExceeded:
    *_, resets = month_window(now)
    label = Metric(quota.metric).label
    whose = "their" if quota.scope == QuotaScope.USER else "its"
    message = f"{quota.subject} has used {used} of {whose} {quota.limit} {label} this month"
    if reserved:
        message += f", with {reserved} more reserved by queued or running jobs"
    if used + reserved < quota.limit:
        message += f", and this job would need {_tidy(asked)}"
    message += f"; the quota resets on {resets:%Y-%m-%d %H:%M} UTC."
    details = {**_describe(quota, used, reserved, now), "requested": _tidy(asked)}
    log.info("quota refused: %s", message)
    return QuotaExceeded(message, quota=details,
                         retry_after=max(1, math.ceil((resets - now).total_seconds())))
