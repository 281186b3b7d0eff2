"""Who sees which API tokens: their owner, and platform admins (everyone's)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class APITokenQuerySet(models.QuerySet):
    """API tokens, restricted to the ones a user may list and revoke."""

    def visible_to(self, user: Any, capability: str = "view") -> APITokenQuerySet:
        """A user's own tokens; every token for platform admins; none for anyone else.

        ``capability`` is accepted for the scoped base viewset and ignored: whoever sees a
        token may also revoke it.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if getattr(user, "is_platform_admin", False):
            return self.all()
        return self.filter(user=user)

    def active(self) -> APITokenQuerySet:
        """Tokens that still authenticate: not revoked and not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
