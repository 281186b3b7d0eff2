"""Overdue stages: remind the eligible reviewers, then escalate to the project owners.

Run by Celery beat (``review.sweep``). A stage is overdue once ``due_hours`` have passed
since it started: the members it awaits (``policy.deciders``: the review policy's own
rules) get one reminder; when it is still open after another
``due_hours``, the project owners are told. Both are audit events. The same sweep
re-queues checks for assets whose checks never ran (a broker outage at the time).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from assay.accounts.choices import ProjectRole
from assay.accounts.models import User
from assay.audit.context import Actor, audit_context
from assay.audit.services import record
from assay.plugins.manager import get_plugins
from assay.studio.models import Asset
from governance.review.choices import ReviewStatus
from governance.review.dispatch import queue_checks
from governance.review.models import CheckResult, Review
from governance.review.policy import deciders

SWEEPER = Actor.system("review-deadlines")


def _mail(users: list[User], subject: str, body: str) -> list[str]:
    to = sorted({u.email for u in users if u.email})
    if to:
        send_mail(subject, body, None, to, fail_silently=True)
    return to


def sweep_deadlines(now: object = None) -> dict[str, int]:
    """Send due reminders and escalations; returns how many of each were sent."""
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    for review in Review.objects.filter(status=ReviewStatus.IN_REVIEW).select_related(
            "project", "asset"):
        stage = review.current_stage
        due = timedelta(hours=float(stage["due_hours"]))
        overdue_since = review.stage_started_at + due
        if now < overdue_since:  # type: ignore[operator]
            continue
        with audit_context(actor=SWEEPER):
            if review.reminded_at is None:
                to = _mail(deciders(review),
                           f"[Assay] Review overdue: {review.project.name}",
                           f"An asset has waited in stage '{stage['name']}' since "
                           f"{review.stage_started_at:%Y-%m-%d %H:%M} UTC. Please decide.")
                review.reminded_at = now
                review.save(update_fields=["reminded_at"])
                record("review.stage.reminded", target=review.asset,
                       data={"review": review.pk, "stage": stage["name"], "to": to})
                counts["reminded"] += 1
            elif review.escalated_at is None and now >= overdue_since + due:  # type: ignore[operator]
                owners = list(User.objects.filter(memberships__project=review.project,
                                                  memberships__role=ProjectRole.OWNER))
                to = _mail(owners, f"[Assay] Review escalated: {review.project.name}",
                           f"Stage '{stage['name']}' is overdue even after a reminder.")
                review.escalated_at = now
                review.save(update_fields=["escalated_at"])
                record("review.stage.escalated", target=review.asset,
                       data={"review": review.pk, "stage": stage["name"], "to": to})
                counts["escalated"] += 1
    counts["checks_requeued"] = _requeue_unchecked(now)
    return counts


def _requeue_unchecked(now: object) -> int:
    kinds = {m for c in get_plugins().checks.values() for m in c.modalities}
    if not kinds:
        return 0
    stale = now - timedelta(seconds=settings.ASSAY_SWEEP_STALE_SECONDS)  # type: ignore[operator]
    checked = CheckResult.objects.values("asset_id")
    ids = Asset.objects.filter(kind__in=kinds, created_at__lt=stale).exclude(
        pk__in=checked).values_list("pk", flat=True)[:200]
    return queue_checks([str(i) for i in ids])
