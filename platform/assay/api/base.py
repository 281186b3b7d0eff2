"""The base viewset: restricts the queryset by role before any handler runs."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from assay.accounts.choices import Capability


class ScopedViewSet(viewsets.GenericViewSet):
    """Subclasses set ``model`` (with a ``visible_to`` queryset) and ``select_related``.

    ``get_queryset`` is the only way rows reach a handler, so no endpoint can list or
    fetch another project's data by forgetting a filter.
    """

    model: type
    capability = Capability.VIEW
    related: tuple[str, ...] = ()

    def get_queryset(self) -> QuerySet:
        """Rows the requesting user may see."""
        qs = self.model.objects.visible_to(self.request.user, self.capability)
        return qs.select_related(*self.related) if self.related else qs
