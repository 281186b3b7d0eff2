"""Gives every request a correlation id and an audit context for its services."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from assay.audit.context import Actor, audit_context, new_correlation_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class AuditContextMiddleware:
    """Sets actor, client IP, user agent and correlation id for the request's duration.

    A well-formed ``X-Request-ID`` from a proxy is kept so logs across services line up;
    the id is echoed back in the response header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        correlation_id = incoming if _SAFE_ID.match(incoming) else new_correlation_id()
        user = getattr(request, "user", None)
        actor = Actor.for_user(user) if user is not None and user.is_authenticated else None
        with audit_context(
            correlation_id=correlation_id,
            actor=actor,
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", ""),
        ):
            request.correlation_id = correlation_id
            response = self.get_response(request)
        response["X-Request-ID"] = correlation_id
        return response
