"""The auditors' filters, parsed once for the list, the export and the export's event.

The parameters are a django-filter FilterSet (:class:`EventFilterSet`): each one declared,
typed, bounded and documented once. Every value is checked before any query runs, so a bad
filter is a 400 that names the parameter, never a silently empty (or silently unfiltered)
answer, and never a number the database cannot hold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from assay.accounts.models import User
from assay.audit.models import AuditEvent
from assay.core.exceptions import InvalidInput
from assay.core.inputs import echo
from assay.core.numbers import parse_id
from assay.studio.models import Project

_ACTION = re.compile(r"^[a-z0-9_.]{1,100}\*?$")
_ACTION_MESSAGE = ("action must be a dotted code (studio.generation.submitted) or a prefix "
                   "ending in * (studio.*).")


def _when(name: str, raw: str) -> dt.datetime:
    try:  # the parsers return None for another shape, and raise for an impossible date
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            value = dt.datetime.combine(day, dt.time.min) if day is not None else None
    except ValueError:
        value = None
    if value is None:
        raise InvalidInput(f"{name} must be an ISO 8601 time such as 2026-01-31T09:00:00Z.",
                           errors={name: ["not an ISO 8601 time"]})
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


class _WhenField(forms.CharField):
    """An ISO 8601 time or date (a date means its midnight, UTC)."""

    def clean(self, value: Any) -> dt.datetime | None:
        """Text checked by CharField (length, NUL), then parsed."""
        text = super().clean(value)
        if not text:
            return None
        try:
            return _when(self.label or "time", text)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None


class _WhenFilter(django_filters.Filter):
    field_class = _WhenField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)


class EventFilterSet(django_filters.FilterSet):
    """``/audit/events/?actor=&action=&project=&target_type=&target_id=&correlation_id=
    &since=&until=``; empty parameters do not filter."""

    actor = django_filters.CharFilter(
        method="filter_actor", max_length=150,
        help_text="A username (also of a deleted user, and their tokens), a user id, or "
                  "system:<component>.")
    action = django_filters.CharFilter(
        method="filter_action", max_length=101,
        validators=[RegexValidator(_ACTION, _ACTION_MESSAGE)],
        help_text="An action code (studio.generation.submitted) or a prefix ending in * "
                  "(studio.*).")
    project = django_filters.CharFilter(method="filter_project", max_length=100,
                                        help_text="A project's slug, or its id (also of a "
                                                  "deleted project).")
    target_type = django_filters.CharFilter(max_length=100,
                                            help_text="e.g. generation.generationjob.")
    target_id = django_filters.CharFilter(max_length=64, help_text="Needs target_type.")
    correlation_id = django_filters.CharFilter(max_length=64,
                                               help_text="Every event of one request and "
                                                         "the tasks it started.")
    since = _WhenFilter(field_name="created_at", lookup_expr="gte", label="since",
                        help_text="From this ISO 8601 time (included).")
    until = _WhenFilter(field_name="created_at", lookup_expr="lt", label="until",
                        help_text="Before this ISO 8601 time.")

    class Meta:
        model = AuditEvent
        fields = ("actor", "action", "project", "target_type", "target_id", "correlation_id",
                  "since", "until")

    def filter_actor(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """A user id, a username (also for deleted users, by the frozen display name, and
        their tokens), or ``system:<component>``."""
        if parse_id(value) is not None:
            return queryset.filter(actor_user_id=parse_id(value))
        if value.startswith("system:"):
            return queryset.filter(actor_kind="system", actor_id=value.removeprefix("system:"))
        user_id = User.objects.filter(username=value).values_list("pk", flat=True).first()
        if user_id is not None:
            return queryset.filter(actor_user_id=user_id)
        return queryset.filter(Q(actor_display=value)
                               | Q(actor_display__startswith=f"{value} (token "))

    def filter_action(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Exact, or every code under a prefix ending in ``*``."""
        if value.endswith("*"):
            return queryset.filter(action__startswith=value[:-1])
        return queryset.filter(action=value)

    def filter_project(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """By project id (a slug is looked up first)."""
        return queryset.filter(project_id=project_id(value))


def project_id(value: str) -> int:
    """A project id, or the slug of an existing project."""
    if parse_id(value) is not None:
        return parse_id(value)
    pk = Project.objects.filter(slug=value).values_list("pk", flat=True).first()
    if pk is None:
        raise InvalidInput(f"No project with slug {echo(value)!r} (use its id for a deleted "
                           "project).", errors={"project": ["unknown slug"]})
    return pk


def _refusal(errors: Mapping[str, Any]) -> InvalidInput:
    messages = {name: [str(m) for m in msgs] for name, msgs in errors.items()}
    first = next(iter(messages.items()))
    text = " ".join(first[1])
    return InvalidInput(text if text.startswith(first[0]) else f"{first[0]}: {text}",
                        errors=messages)


@dataclass(frozen=True)
class EventFilter:
    """Filters over audit events, as sent (empty fields do not filter)."""

    actor: str = ""
    action: str = ""
    project: str = ""
    target_type: str = ""
    target_id: str = ""
    correlation_id: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EventFilter:
        """Read and check the query string (unknown keys such as ``cursor`` are left
        alone).

        Raises:
            InvalidInput: naming the parameter (a bad time or action, text too long or
                with NUL, an unknown project slug, target_id without target_type).
        """
        names = EventFilterSet.base_filters
        checked = EventFilterSet({name: params[name] for name in names if name in params},
                                 queryset=AuditEvent.objects.none())
        if not checked.is_valid():
            raise _refusal(checked.errors)
        values = {name: str(params.get(name, "") or "").strip() for name in names}
        if values["target_id"] and not values["target_type"]:
            raise InvalidInput("target_id needs target_type (e.g. generation.generationjob).",
                               errors={"target_type": ["required with target_id"]})
        found = cls(**values)
        if found.project:
            project_id(found.project)  # an unknown slug is a 400 now, not midway through a stream
        return found

    def as_dict(self) -> dict[str, str]:
        """The filters that are set (recorded with each export)."""
        return {k: v for k, v in asdict(self).items() if v}

    def apply(self, queryset: QuerySet) -> QuerySet:
        """Narrow a queryset of AuditEvent through :class:`EventFilterSet`."""
        filters = EventFilterSet(self.as_dict(), queryset=queryset)
        if not filters.is_valid():  # checked in from_params; never silently unfiltered
            raise _refusal(filters.errors)
        return filters.qs
