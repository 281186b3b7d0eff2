"""Each user's inbox: what changed for them in review, and what they have not read yet.

Why stored rows and not a reading of the audit log: the audit events carry their data as
frozen text (for the hash chain), so "decisions on *my* assets" or "stages *I* can decide"
cannot be asked of them in SQL, and "whom does this stage await" is the review policy's
answer at that moment (``policy.deciders``), not something to recompute later. So the
review policy writes one :class:`InboxItem` per recipient in the same transaction as the
change (a review opened or moved to a stage: its deciders; a final decision: the asset's
creator and submitter), beside the e-mails it sends.

"Due soon" is derived, never stored: a review request whose review is still open at that
stage, which the reader has not decided on there, counts as due soon from its
``due_soon_at``. Unread is everything after the reader's ``InboxSeen.seen_at`` ("mark all
read"). Every read is scoped with ``visible_to``: an entry of a project the user left is
not shown, and nobody ever reads another user's entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from governance.review.choices import DUE_SOON_HOURS, DecisionKind, InboxKind, ReviewStatus
from governance.review.models import Decision, InboxItem, InboxSeen, Review
from governance.review.querysets import DEFAULT_DUE_HOURS

#: Before any "mark all read", everything is unread.
NEVER = datetime(2000, 1, 1, tzinfo=UTC)
#: The newest entries an inbox lists (older ones stay in the database and the audit log).
MAX_ENTRIES = 200

_DECIDED_KIND = {DecisionKind.APPROVE: InboxKind.APPROVED,
                 DecisionKind.REJECT: InboxKind.REJECTED,
                 DecisionKind.REQUEST_CHANGES: InboxKind.CHANGES_REQUESTED}


# -- writing (called by the review policy, inside its transaction) ---------------------------
def stage_due_at(review: Review) -> datetime | None:
    """When the review's current stage is due (None once it is finished)."""
    stage = review.current_stage
    if stage is None:
        return None
    return review.stage_started_at + timedelta(
        hours=float(stage.get("due_hours", DEFAULT_DUE_HOURS)))


def review_requested(review: Review, users: Iterable[Any]) -> int:
    """Tell ``users`` (the stage's deciders) that ``review`` awaits their decision."""
    stage, now = review.current_stage or {}, timezone.now()
    due = stage_due_at(review)
    # A stage due within DUE_SOON_HOURS already says so in its request: no second entry.
    due_soon = due - timedelta(hours=DUE_SOON_HOURS) if due else None
    due_soon = due_soon if due_soon and due_soon > now else None
    rows = [InboxItem(user=user, project_id=review.project_id, review=review,
                      kind=InboxKind.REVIEW_REQUESTED, stage_index=review.stage_index,
                      stage_name=str(stage.get("name", ""))[:60], due_at=due,
                      due_soon_at=due_soon, created_at=now)
            for user in {u.pk: u for u in users}.values()]
    return len(InboxItem.objects.bulk_create(rows))


def review_decided(review: Review, decision: str, *, actor: Any, note: str = "") -> int:
    """Tell the asset's creator and submitter how their review ended (never the person
    who decided: they know)."""
    kind = _DECIDED_KIND[DecisionKind(decision)]
    actor_pk = getattr(actor, "pk", None)
    recipients = {pk for pk in (review.generated_by_id, review.submitted_by_id)
                  if pk is not None and pk != actor_pk}
    stage = review.stages[min(review.stage_index, len(review.stages) - 1)] if review.stages else {}
    now = timezone.now()
    rows = [InboxItem(user_id=pk, project_id=review.project_id, review=review, kind=kind,
                      stage_index=review.stage_index, stage_name=str(stage.get("name", ""))[:60],
                      actor_name=actor.get_username()[:150] if actor_pk else "",
                      note=note, created_at=now)
            for pk in sorted(recipients)]
    return len(InboxItem.objects.bulk_create(rows))


def mark_read(user: Any, at: datetime | None = None) -> datetime:
    """Everything up to ``at`` (now) is read.

    Not an audit event: it changes nothing anyone governs, only what this user's inbox
    highlights, and the audit log should not fill with page visits.
    """
    at = at or timezone.now()
    with transaction.atomic():
        InboxSeen.objects.update_or_create(user=user, defaults={"seen_at": at})
    return at


# -- reading --------------------------------------------------------------------------------
def _mine(user: Any) -> QuerySet:
    return InboxItem.objects.visible_to(user).filter(user_id=user.pk)


def _still_awaiting(user: Any) -> Q:
    """A review request whose review is still open at that stage, undecided by ``user``."""
    decided = Decision.objects.filter(review_id=OuterRef("review_id"), reviewer_id=user.pk,
                                      stage_index=OuterRef("stage_index"))
    return (Q(kind=InboxKind.REVIEW_REQUESTED, review__status=ReviewStatus.IN_REVIEW,
              review__stage_index=F("stage_index"), due_soon_at__isnull=False)
            & ~Q(Exists(decided)))


def _seen(user: Any) -> Coalesce:
    return Coalesce(Subquery(InboxSeen.objects.filter(user_id=user.pk).values("seen_at")[:1]),
                    Value(NEVER))


def seen_at(user: Any) -> datetime | None:
    """When ``user`` last marked their inbox read (None: never)."""
    return InboxSeen.objects.filter(user_id=user.pk).values_list("seen_at", flat=True).first()


def unread_count(user: Any, now: datetime | None = None) -> int:
    """How many entries ``user`` has not read: ONE query (the nav shows it on every page)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    now, seen = now or timezone.now(), _seen(user)
    counts = _mine(user).aggregate(
        stored=Count("pk", filter=Q(created_at__gt=seen)),
        due=Count("pk", filter=_still_awaiting(user) & Q(due_soon_at__lte=now,
                                                         due_soon_at__gt=seen)))
    return int(counts["stored"] or 0) + int(counts["due"] or 0)


@dataclass
class Entry:
    """One line of the inbox, with its sentence in words."""

    kind: str
    at: datetime
    unread: bool
    item: InboxItem

    @property
    def review(self) -> Review:
        """The review it is about."""
        return self.item.review

    @property
    def label(self) -> str:
        """The kind in words."""
        return InboxKind(self.kind).label

    @property
    def overdue(self) -> bool:
        """A due-soon entry whose due time has passed."""
        return bool(self.kind == InboxKind.DUE_SOON and self.item.due_at
                    and self.item.due_at <= timezone.now())

    @property
    def message(self) -> str:
        """What happened, as a colleague would say it."""
        item, review = self.item, self.item.review
        kind = review.asset.get_kind_display().lower()
        what = f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} asset in {review.project.name}"
        stage = f" (stage “{item.stage_name}”)" if item.stage_name else ""
        who = item.actor_name or "A reviewer"
        if self.kind == InboxKind.REVIEW_REQUESTED:
            return f"Your decision is requested on {what}{stage}."
        if self.kind == InboxKind.DUE_SOON:
            return (f"The review of {what}{stage} is overdue." if self.overdue
                    else f"The review of {what}{stage} is due soon.")
        yours = f"your {kind} asset in {review.project.name}"
        if self.kind == InboxKind.CHANGES_REQUESTED:
            return f"{who} requested changes to {yours}."
        if self.kind == InboxKind.REJECTED:
            return f"{who} rejected {yours}."
        return f"{who} approved {yours}; it will be signed."

    @property
    def next_step(self) -> str:
        """What the reader can do about it."""
        return {InboxKind.REVIEW_REQUESTED: "Review it",
                InboxKind.DUE_SOON: "Review it now",
                InboxKind.CHANGES_REQUESTED: "Revise it",
                InboxKind.REJECTED: "See why",
                InboxKind.APPROVED: "See it"}[InboxKind(self.kind)]


def feed(user: Any, now: datetime | None = None) -> QuerySet:
    """(id, kind, at) rows of ``user``'s inbox, newest first: the stored entries and the
    derived due-soon ones in one query (a UNION), so it pages like any list."""
    now = now or timezone.now()
    mine = _mine(user).order_by()
    stored = mine.annotate(shown=F("kind"), at=F("created_at")).values_list("id", "shown", "at")
    due = (mine.filter(_still_awaiting(user), due_soon_at__lte=now)
           .annotate(shown=Value(InboxKind.DUE_SOON, output_field=CharField()),
                     at=F("due_soon_at")).values_list("id", "shown", "at"))
    return stored.union(due, all=True).order_by("-at", "-id")


def entries(user: Any, rows: Iterable[tuple[int, str, datetime]],
            seen: datetime | None) -> list[Entry]:
    """The feed's rows as entries, their items and reviews loaded in one query."""
    rows = list(rows)
    items = InboxItem.objects.filter(user_id=user.pk, pk__in={r[0] for r in rows}).select_related(
        "review__asset", "review__project")
    by_id = {item.pk: item for item in items}
    seen = seen or NEVER
    return [Entry(kind=kind, at=at, unread=at > seen, item=by_id[pk])
            for pk, kind, at in rows if pk in by_id]


def inbox(user: Any, limit: int = MAX_ENTRIES, offset: int = 0,
          now: datetime | None = None) -> tuple[list[Entry], int, datetime | None]:
    """(entries, total, seen_at) of one page of ``user``'s inbox: four queries."""
    rows = feed(user, now)
    total = rows.count()
    seen = seen_at(user)
    return entries(user, rows[offset:offset + limit], seen), total, seen
