"""Read and permission logic for reviews: what is awaiting whom, through the same rules
that the decision action enforces (``governance.review.rules``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from assay.studio.models import Membership
from assay.studio.querysets import ProjectScopedQuerySet
from governance.review.choices import ReviewStatus
from governance.review.rules import DECIDE_RULES, ReviewFacts, first_refusal

#: Finished states that count as "decided" (a superseded review was never decided).
DECIDED = (ReviewStatus.APPROVED, ReviewStatus.REJECTED, ReviewStatus.CHANGES_REQUESTED)


class ReviewQuerySet(ProjectScopedQuerySet):
    """Reviews, scoped through their project, with the reviewer's questions answered."""

    def decision_facts(self, user: Any) -> dict[int, ReviewFacts]:
        """The facts the rules read, for every review in this queryset and ``user``.

        Three queries whatever the number of reviews: the rows, the user's roles in their
        projects, and the user's own decisions on them. The queue loads them in bulk; the
        decision action loads them for the one row it has locked.
        """
        rows = list(self.select_related(None).prefetch_related(None).order_by().values_list(
            "pk", "project_id", "status", "stage_index", "stages", "generated_by_id",
            "submitted_by_id"))
        if not rows or getattr(user, "pk", None) is None:
            return {}
        roles = dict(Membership.objects.filter(
            user=user, project_id__in={r[1] for r in rows}).values_list("project_id", "role"))
        decision = self.model._meta.get_field("decisions").related_model
        decided: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for review_id, stage_index, kind in decision.objects.filter(
                reviewer=user, review_id__in=[r[0] for r in rows]).values_list(
                    "review_id", "stage_index", "decision"):
            decided[review_id].append((stage_index, kind))
        is_admin = bool(getattr(user, "is_platform_admin", False))
        return {pk: ReviewFacts(user_id=user.pk, is_admin=is_admin, role=roles.get(project),
                                status=status, stage_index=index, stages=stages or [],
                                generated_by_id=made_by, submitted_by_id=sent_by,
                                decided=tuple(decided.get(pk, ())))
                for pk, project, status, index, stages, made_by, sent_by in rows}

    def awaiting(self, user: Any) -> ReviewQuerySet:
        """Open reviews in this queryset that ``user`` could decide now: their queue.

        A review is kept when no decision rule refuses the user, so the queue, the REST
        ``?awaiting_me`` filter, the portal's decision form and the decision itself agree.
        """
        open_reviews = self.visible_to(user).filter(status=ReviewStatus.IN_REVIEW)
        keep = [pk for pk, facts in open_reviews.decision_facts(user).items()
                if first_refusal(DECIDE_RULES, facts) is None]
        return self.filter(pk__in=keep)

    def recently_decided(self, limit: int = 20) -> ReviewQuerySet:
        """The newest finished decisions (approved, rejected, sent back), newest first."""
        return (self.filter(status__in=DECIDED)
                .select_related("project", "asset", "generated_by")
                .prefetch_related("decisions__reviewer")
                .order_by("-finished_at", "-pk")[:limit])
