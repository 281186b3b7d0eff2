"""REST building blocks every app's ``api`` module uses: the role-scoped base viewset, the
handler that turns every error into one JSON shape, and the schema class that documents it.

They live in the base layer so that domain and governance apps can declare their own
endpoints without importing the faces (``assay.api`` only assembles them).

Every error the API gives is ``{"detail": "a sentence that says what to fix", "code":
"...", "errors": {"field": ["..."]}}``: domain refusals (:class:`AssayError`), DRF's own
(validation, parsing, authentication, permissions, throttling, unknown methods and media
types) and, through :mod:`assay.api.handlers`, unknown routes and server errors. The
OpenAPI schema names that shape once, as the ``Error`` component, on every operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from assay.core.exceptions import AssayError, QuotaExceeded
from assay.core.inputs import RequestTooLarge

#: How many field messages the ``detail`` sentence names before "and N more".
_DETAIL_FIELDS = 3


def error_body(detail: str, code: str, errors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The one JSON shape of every API error; ``errors`` is ``{}`` when no field is named."""
    return {"detail": detail, "code": code, "errors": dict(errors or {})}


def _flatten(detail: Any, prefix: str, out: dict[str, list[str]]) -> None:
    """DRF's nested error detail → ``{"field.sub.0": ["message", ...]}``."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(detail, (list, tuple)):
        if all(not isinstance(item, (Mapping, list, tuple)) for item in detail):
            if detail:
                out.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).extend(
                    str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                _flatten(item, f"{prefix}.{index}" if prefix else str(index), out)
    else:
        out.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(detail))


def validation_body(detail: Any) -> dict[str, Any]:
    """A DRF ValidationError's detail as ``{detail, code, errors}``: the sentence names the
    first fields and their messages, ``errors`` holds all of them by (dotted) field name."""
    errors: dict[str, list[str]] = {}
    _flatten(detail, "", errors)
    parts = []
    for name, messages in list(errors.items())[:_DETAIL_FIELDS]:
        text = " ".join(messages)
        parts.append(text if name == api_settings.NON_FIELD_ERRORS_KEY else f"{name}: {text}")
    sentence = "; ".join(parts) or "The request is invalid."
    if len(errors) > _DETAIL_FIELDS:
        sentence += f" (and {len(errors) - _DETAIL_FIELDS} more fields, see errors)"
    return error_body(sentence, "invalid", errors)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error → ``{detail, code, errors}`` with its status (and Retry-After or
    WWW-Authenticate headers); None (a 500, rendered by assay.api.handlers) otherwise."""
    if isinstance(exc, AssayError):
        set_rollback()
        body = exc.as_dict()
        response = Response(error_body(str(body["detail"]), str(body["code"]),
                                       body.get("errors")),  # type: ignore[arg-type]
                            status=exc.status_code)
        if isinstance(exc, QuotaExceeded):
            response["Retry-After"] = str(exc.retry_after)  # seconds until the quota resets
        return response
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge("The request body is larger than this server accepts "
                              "(DATA_UPLOAD_MAX_MEMORY_SIZE); send less.")
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(f"The request was refused: {exc}")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, int(wait + 0.999)))  # whole seconds, rounded up
    if isinstance(exc, exceptions.ValidationError):
        body = validation_body(exc.detail)
    elif isinstance(exc.detail, (list, dict)):  # an APIException raised with field detail
        body = validation_body(exc.detail)
        body["code"] = exc.default_code
    else:
        body = error_body(str(exc.detail), str(getattr(exc.detail, "code", None)
                                               or exc.default_code))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


class ErrorSerializer(serializers.Serializer):
    """Every API error (documented once, as the ``Error`` schema component)."""

    detail = serializers.CharField(help_text="A sentence that says what is wrong and what to "
                                             "send instead.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. invalid, "
                                           "not_authenticated, forbidden, not_found, conflict, "
                                           "throttled, quota_exceeded.")
    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Messages by (dotted) field name; a quota refusal puts the quota here. "
                  "Empty when no field is to blame.")

    class Meta:
        ref_name = "Error"


_ERROR_TEXT = {
    "400": "The request is invalid: the detail says what to fix.",
    "401": "No valid credentials (send Authorization: Bearer <token>).",
    "403": "Signed in, but the role does not allow this.",
    "404": "Nothing by that name that you can see.",
    "409": "The object is not in a state that allows this.",
    "413": "The request body is too large.",
    "415": "Send the body as application/json.",
    "429": "Too many requests, or a quota is used up: retry after Retry-After seconds.",
}
_BODY_METHODS = ("POST", "PUT", "PATCH")


class AssaySchema(AutoSchema):
    """drf-spectacular's schema, with the error responses every operation can give, so no
    endpoint can leave its errors undocumented."""

    def _error_codes(self) -> list[str]:
        codes = ["400", "404", "429"]
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes += ["401", "403"]
        if self.method in (*_BODY_METHODS, "DELETE"):
            codes.append("409")
        if self.method in _BODY_METHODS:
            codes += ["413", "415"]
        return sorted(codes)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_ERROR_TEXT[code]), code,
                    direction=direction)
        return dict(sorted(responses.items()))

    def _get_response_headers_for_code(self, status_code: str,
                                       direction: str = "response") -> dict[str, Any]:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code == "429":
            headers.setdefault("Retry-After", {
                "schema": {"type": "integer"},
                "description": "Seconds until the request may be sent again."})
        return headers


class ScopedViewSet(viewsets.GenericViewSet):
    """Subclasses set ``model`` (with a ``visible_to`` queryset) and ``select_related``.

    ``get_queryset`` is the only way rows reach a handler, so no endpoint can list or
    fetch another project's data by forgetting a filter.
    """

    model: type
    capability = "view"  # an assay.accounts Capability value
    related: tuple[str, ...] = ()

    def get_queryset(self) -> QuerySet:
        """Rows the requesting user may see (none while the schema is generated)."""
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        qs = self.model.objects.visible_to(self.request.user, self.capability)
        return qs.select_related(*self.related) if self.related else qs
