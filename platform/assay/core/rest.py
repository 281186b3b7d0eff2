"""REST building blocks every app's ``api`` module uses: the role-scoped base viewset and
the handler that turns domain errors into JSON answers with a sentence that says what to fix.

They live in the base layer so that domain and governance apps can declare their own
endpoints without importing the faces (``assay.api`` only assembles them).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from assay.core.exceptions import AssayError, QuotaExceeded


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """AssayError → its status and body; everything else → DRF's default handling."""
    if isinstance(exc, AssayError):
        response = Response(exc.as_dict(), status=exc.status_code)
        if isinstance(exc, QuotaExceeded):
            response["Retry-After"] = str(exc.retry_after)  # seconds until the quota resets
        return response
    return drf_exception_handler(exc, context)


class ScopedViewSet(viewsets.GenericViewSet):
    """Subclasses set ``model`` (with a ``visible_to`` queryset) and ``select_related``.

    ``get_queryset`` is the only way rows reach a handler, so no endpoint can list or
    fetch another project's data by forgetting a filter.
    """

    model: type
    capability = "view"  # an assay.accounts Capability value
    related: tuple[str, ...] = ()

    def get_queryset(self) -> QuerySet:
        """Rows the requesting user may see."""
        qs = self.model.objects.visible_to(self.request.user, self.capability)
        return qs.select_related(*self.related) if self.related else qs
