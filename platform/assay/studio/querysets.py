"""Read and permission logic: every list and lookup goes through ``visible_to``.

Auditors and platform admins see every project; everyone else sees the projects where
their membership grants the capability asked for. Base viewsets and portal views call
these, so an endpoint cannot forget to scope.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from assay.accounts.choices import Capability, roles_with
from assay.core.exceptions import NotFound


def _sees_everything(user: Any, capability: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_platform_admin", False):
        return True
    return capability == Capability.VIEW and getattr(user, "is_auditor", False)


class ProjectQuerySet(models.QuerySet):
    """Projects, restricted by the user's role."""

    def visible_to(self, user: Any, capability: str = Capability.VIEW) -> ProjectQuerySet:
        """Projects where ``user`` has ``capability``."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if _sees_everything(user, capability):
            return self.all()
        return self.filter(
            memberships__user=user, memberships__role__in=roles_with(capability)
        ).distinct()


class ProjectScopedQuerySet(models.QuerySet):
    """Objects with a ``project`` foreign key, restricted through their project."""

    def visible_to(self, user: Any, capability: str = Capability.VIEW) -> ProjectScopedQuerySet:
        """Objects in projects where ``user`` has ``capability``."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if _sees_everything(user, capability):
            return self.all()
        # The project model via the relation, not an import: models import this module.
        projects = self.model._meta.get_field("project").related_model
        return self.filter(project__in=projects.objects.visible_to(user, capability).values("pk"))

    def get_visible(self, user: Any, key: Any, *, noun: str) -> models.Model:
        """The row with primary key ``key`` that ``user`` may see, or NotFound.

        A malformed id and an invisible row get the same answer, so ids cannot be probed.
        """
        try:
            row = self.visible_to(user).filter(pk=key).first()
        except (ValueError, ValidationError):
            row = None
        if row is None:
            raise NotFound(f"No {noun} {key} in your projects.")
        return row
