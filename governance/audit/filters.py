"""The auditors' filters, parsed once for the list, the export and the export's event.

Every value is checked here, so a bad filter is a 400 that names the parameter, never a
silently empty (or silently unfiltered) answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from assay.accounts.models import User
from assay.core.exceptions import InvalidInput
from assay.studio.models import Project

_ACTION = re.compile(r"^[a-z0-9_.]{1,100}$")
_FILTERS = ("actor", "action", "project", "target_type", "target_id", "correlation_id",
            "since", "until")


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


@dataclass(frozen=True)
class EventFilter:
    """Filters over audit events; empty fields do not filter."""

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
        """Read the query string (unknown keys such as ``cursor`` are left alone)."""
        values = {name: str(params.get(name, "") or "").strip() for name in _FILTERS}
        action = values["action"]
        if action and not _ACTION.match(action.removesuffix("*")):
            raise InvalidInput("action must be a dotted code (studio.generation.submitted) or "
                               "a prefix ending in * (studio.*).",
                               errors={"action": ["not an action code or prefix"]})
        for name in ("since", "until"):
            if values[name]:
                _when(name, values[name])
        if values["target_id"] and not values["target_type"]:
            raise InvalidInput("target_id needs target_type (e.g. generation.generationjob).",
                               errors={"target_type": ["required with target_id"]})
        found = cls(**values)
        if found.project:
            found._project_id()  # an unknown slug is a 400 now, not midway through a stream
        return found

    def as_dict(self) -> dict[str, str]:
        """The filters that are set (recorded with each export)."""
        return {k: v for k, v in asdict(self).items() if v}

    def apply(self, queryset: QuerySet) -> QuerySet:
        """Narrow a queryset of AuditEvent."""
        qs = queryset
        if self.action:
            qs = (qs.filter(action__startswith=self.action[:-1]) if self.action.endswith("*")
                  else qs.filter(action=self.action))
        if self.actor:
            qs = qs.filter(self._actor_q())
        if self.project:
            qs = qs.filter(project_id=self._project_id())
        if self.target_type:
            qs = qs.filter(target_type=self.target_type)
        if self.target_id:
            qs = qs.filter(target_id=self.target_id)
        if self.correlation_id:
            qs = qs.filter(correlation_id=self.correlation_id)
        if self.since:
            qs = qs.filter(created_at__gte=_when("since", self.since))
        if self.until:
            qs = qs.filter(created_at__lt=_when("until", self.until))
        return qs

    def _actor_q(self) -> Q:
        """A user id, a username (also for deleted users, by the frozen display name, and
        their tokens), or ``system:<component>``."""
        if self.actor.isdigit():
            return Q(actor_user_id=int(self.actor))
        if self.actor.startswith("system:"):
            return Q(actor_kind="system", actor_id=self.actor.removeprefix("system:"))
        user_id = User.objects.filter(username=self.actor).values_list("pk", flat=True).first()
        if user_id is not None:
            return Q(actor_user_id=user_id)
        return Q(actor_display=self.actor) | Q(actor_display__startswith=f"{self.actor} (token ")

    def _project_id(self) -> int:
        """A project id, or the slug of an existing project."""
        if self.project.isdigit():
            return int(self.project)
        pk = Project.objects.filter(slug=self.project).values_list("pk", flat=True).first()
        if pk is None:
            raise InvalidInput(f"No project with slug {self.project!r} (use its id for a "
                               "deleted project).", errors={"project": ["unknown slug"]})
        return pk
