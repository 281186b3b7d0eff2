"""Read-only questions about reviews, shared by the portal and the REST API.

The workflow service enforces who may decide; these helpers only answer "what should this
user see", so the queue, the review page and ``?awaiting_me`` apply one rule everywhere.
Every query starts from ``Review.objects.visible_to(user)`` unless the caller hands in a
queryset that is already scoped that way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from assay.studio.models import Membership
from governance.review.choices import DecisionKind, ReviewStatus
from governance.review.models import CheckResult, Decision, Review

#: Finished states that count as "decided" (a superseded review was never decided).
DECIDED = (ReviewStatus.APPROVED, ReviewStatus.REJECTED, ReviewStatus.CHANGES_REQUESTED)


def _stage_admits(user: Any, review: Review, role: str | None) -> bool:
    """Whether the review's current stage is decided by ``role`` (admins decide any)."""
    stage = review.current_stage
    if stage is None:
        return False
    return role in stage["roles"] or bool(getattr(user, "is_platform_admin", False))


def awaiting(user: Any, qs: QuerySet[Review] | None = None) -> QuerySet[Review]:
    """Open reviews this user could decide now: the reviewer's queue.

    Open, in a project where the user's role is one the current stage allows, not an asset
    they generated or submitted, and not a stage they already decided. ``qs`` must already
    be scoped with ``visible_to`` (the REST viewset passes its own, filtered one).
    """
    if qs is None:
        qs = Review.objects.visible_to(user)
    mine = Membership.objects.filter(project=OuterRef("project"), user=user)
    decided = Decision.objects.filter(review=OuterRef("pk"), reviewer=user,
                                      stage_index=OuterRef("stage_index"))
    qs = qs.filter(status=ReviewStatus.IN_REVIEW).exclude(
        Q(generated_by=user) | Q(submitted_by=user)).exclude(Exists(decided))
    # The stage's roles live in JSON, so the last step is done in Python over a small set.
    rows = (qs.select_related(None).prefetch_related(None)
            .annotate(my_role=mine.values("role")[:1])
            .only("pk", "status", "stages", "stage_index"))
    keep = [r.pk for r in rows if _stage_admits(user, r, r.my_role)]
    return qs.filter(pk__in=keep)


def recently_decided(user: Any, limit: int = 20) -> QuerySet[Review]:
    """The newest finished decisions in the user's projects (approved, rejected, sent back)."""
    return (Review.objects.visible_to(user).filter(status__in=DECIDED)
            .select_related("project", "asset", "generated_by")
            .prefetch_related("decisions__reviewer")
            .order_by("-finished_at", "-pk")[:limit])


@dataclass(frozen=True)
class DecisionRights:
    """Whether to offer the decision form, and if not, the sentence that says why."""

    allowed: bool
    reason: str = ""


def decision_rights(user: Any, review: Review, role: str | None) -> DecisionRights:
    """Mirror of the workflow's guard, for display only (the service still decides).

    ``role`` is the user's role in the review's project (``role_in``), passed in so the
    page does not look it up twice.
    """
    stage = review.current_stage
    if stage is None:
        return DecisionRights(False, f"This review is {review.get_status_display().lower()};"
                                     " nothing is left to decide.")
    if user.pk in (review.generated_by_id, review.submitted_by_id):
        return DecisionRights(False, "You generated or submitted this asset; another "
                                     "reviewer must decide on it.")
    if not _stage_admits(user, review, role):
        return DecisionRights(False, f"Stage '{stage['name']}' is decided by "
                                     f"{' or '.join(stage['roles'])}; your role is "
                                     f"{role or 'none'}.")
    mine = Decision.objects.filter(review=review, reviewer=user)
    if mine.filter(stage_index=review.stage_index).exists():
        return DecisionRights(False, "You already decided at this stage.")
    if mine.filter(decision=DecisionKind.APPROVE).exclude(
            stage_index=review.stage_index).exists():
        return DecisionRights(False, "You approved an earlier stage of this asset; a "
                                     "different person must decide on this one.")
    return DecisionRights(True)


def results_for(review: Review) -> list[CheckResult]:
    """The check results of exactly the version under review (not of later versions)."""
    return list(CheckResult.objects.filter(asset_id=review.asset_id,
                                           content_sha256=review.content_sha256))

