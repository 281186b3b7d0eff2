"""The usage report's query parameters (django-filter): each one declared, typed, bounded
and documented once; a bad value is a 400 that names it, never a silently unfiltered
answer."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from governance.usage.models import UsageRecord

#: group_by name → the column it groups on.
GROUPS: dict[str, str] = {"user": "user__username", "team": "team__slug",
                          "project": "project__slug", "generator": "generator_id",
                          "model": "model_name", "day": "day"}


def _date_error(name: str) -> dict[str, str]:
    return {"invalid": f"{name} must be a date such as 2026-03-01 (YYYY-MM-DD)."}


class UsageFilter(django_filters.FilterSet):
    """``/usage/?group_by=&since=&until=&project=&team=&user=``."""

    group_by = django_filters.CharFilter(
        method="no_filter", max_length=200,
        help_text=f"Comma-separated groups: any of {', '.join(GROUPS)} (none: one row of "
                  "totals).")
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte",
                                      error_messages=_date_error("since"),
                                      help_text="First day (UTC) included, YYYY-MM-DD.")
    until = django_filters.DateFilter(field_name="day", lookup_expr="lte",
                                      error_messages=_date_error("until"),
                                      help_text="Last day (UTC) included, YYYY-MM-DD.")
    project = django_filters.CharFilter(field_name="project__slug", max_length=100,
                                        help_text="A project's slug.")
    team = django_filters.CharFilter(field_name="team__slug", max_length=100,
                                     help_text="A team's slug.")
    user = django_filters.CharFilter(field_name="user__username", max_length=150,
                                     help_text="A username.")

    class Meta:
        model = UsageRecord
        fields = ("group_by", "since", "until", "project", "team", "user")

    def no_filter(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """group_by groups the rows (services.rollup); it selects none."""
        return queryset
