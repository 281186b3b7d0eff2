"""How reviews are filtered and sorted: one FilterSet for the REST list and the portal queue.

``GET /api/v1/reviews/?awaiting_me=true&checks=failed&sort=due`` and the portal's queue
with the same parameters narrow the same rows the same way, because both hand the request's
parameters to :class:`ReviewFilter`. It annotates what it filters on first
(``ReviewQuerySet.with_queue_facts``: check counts, current stage, due time), so no
filter or sort costs a query per row.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import F, QuerySet
from django.utils import timezone

from assay.studio.choices import Modality
from governance.review.choices import DUE_SOON_HOURS, CheckState, ReviewStatus
from governance.review.models import Review


class DueChoice:
    """Values of the ``due`` filter."""

    SOON = "soon"
    OVERDUE = "overdue"
    choices = ((SOON, f"Due within {DUE_SOON_HOURS} hours"), (OVERDUE, "Overdue"))


class SortChoice:
    """Values of the ``sort`` parameter; the portal's queue defaults to ``due``."""

    DUE = "due"
    NEWEST = "newest"
    OLDEST = "oldest"
    choices = ((DUE, "Due first"), (NEWEST, "Newest first"), (OLDEST, "Oldest first"))


class ReviewFilter(django_filters.FilterSet):
    """``/reviews/?project=&status=&modality=&checks=&due=&stage=&mine=&awaiting_me=&sort=``."""

    project = django_filters.CharFilter(field_name="project__slug", max_length=100, label="Project",
                                        help_text="A project's slug.")
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices, label="State",
                                         help_text="Only reviews in this status.")
    awaiting_me = django_filters.BooleanFilter(
        method="filter_awaiting_me", label="Awaiting me",
        help_text="true: only the reviews you could decide now (your queue).")
    mine = django_filters.BooleanFilter(
        method="filter_mine", label="My submissions",
        help_text="true: only reviews of assets you generated or submitted (your "
                  "submissions).")
    modality = django_filters.ChoiceFilter(field_name="asset__kind", choices=Modality.choices,
                                           label="Kind", help_text="Only assets of this kind.")
    checks = django_filters.ChoiceFilter(
        field_name="check_state", choices=CheckState.choices, label="Checks",
        help_text="failed: a check failed; attention: a warning and no failure; passed: "
                  "every check passed; unchecked: no check ran on the reviewed version.")
    due = django_filters.ChoiceFilter(
        method="filter_due", choices=DueChoice.choices, label="Due",
        help_text=f"soon: the current stage is due within {DUE_SOON_HOURS} hours; "
                  "overdue: it is past due. Open reviews only.")
    stage = django_filters.CharFilter(
        field_name="stage_name", lookup_expr="iexact", max_length=60, label="Stage",
        help_text="Only open reviews at the stage of this name (any case).")
    sort = django_filters.ChoiceFilter(
        method="sort_by", choices=SortChoice.choices, empty_label=None, label="Sort",
        help_text="due: the soonest due first (finished reviews last); newest or oldest: "
                  "by submission time. Default: newest.")

    class Meta:
        model = Review
        fields = ("project", "status", "awaiting_me", "mine", "modality", "checks", "due",
                  "stage", "sort")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Annotate the queue facts once, then apply each filter."""
        return super().filter_queryset(queryset.with_queue_facts())

    def _user(self) -> Any:
        return getattr(self.request, "user", None)

    def filter_awaiting_me(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """The review policy's own answer to "what is awaiting me"."""
        return queryset.awaiting(self._user()) if value else queryset

    def filter_mine(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Reviews of assets the requesting user generated or submitted."""
        return queryset.of_creator(self._user()) if value else queryset

    def filter_due(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Due soon (not yet overdue) or overdue, at the current stage."""
        now = timezone.now()
        if value == DueChoice.SOON:
            return queryset.due_soon(now)
        if value == DueChoice.OVERDUE:
            return queryset.overdue(now)
        return queryset

    def sort_by(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Due first (undated last), newest or oldest submission; ties by id."""
        if value == SortChoice.DUE:
            return queryset.order_by(F("due_at").asc(nulls_last=True), "submitted_at", "pk")
        if value == SortChoice.OLDEST:
            return queryset.order_by("submitted_at", "pk")
        if value == SortChoice.NEWEST:
            return queryset.order_by("-submitted_at", "-pk")
        return queryset
