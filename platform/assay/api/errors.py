"""Turns domain errors into JSON answers with a sentence that says what to fix."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from assay.core.exceptions import AssayError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """AssayError → its status and body; everything else → DRF's default handling."""
    if isinstance(exc, AssayError):
        return Response(exc.as_dict(), status=exc.status_code)
    return drf_exception_handler(exc, context)
