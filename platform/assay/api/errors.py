"""Turns domain errors into JSON answers with a sentence that says what to fix."""

from __future__ import annotations

from typing import Any

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
