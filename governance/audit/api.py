"""The auditors' REST API: events (filtered, cursor-paginated), exports, verify, actions.

Only auditors and platform admins get in (403 for every project role, 401 without
credentials). Views parse the request and call assay.audit's services; the
filters live in filters.py (a django-filter FilterSet), the export stream in export.py,
verification in assay.audit.verify.
"""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.audit import registry
from assay.audit.chain import utc_iso
from assay.audit.context import actor_for
from assay.audit.models import AuditEvent
from assay.audit.verify import verify_and_record
from assay.core.numbers import parse_id, parse_whole
from assay.studio.models import Project
from governance.audit.export import FORMATS, start_export
from governance.audit.filters import EventFilter, EventFilterSet


class IsAuditor(BasePermission):
    """Auditors and platform admins; nobody else, whatever their project roles."""

    message = "Only auditors and platform admins may read the audit log."

    def has_permission(self, request: Request, view: Any) -> bool:
        """Signed in, with the auditor or admin global role."""
        user = request.user
        return bool(user and user.is_authenticated and (
            getattr(user, "is_auditor", False) or getattr(user, "is_platform_admin", False)))


class EventCursor(CursorPagination):
    """Newest first, by id: stable under concurrent inserts, no COUNT(*) over the log.

    ``page_size`` and the cursor are checked (a 400 naming them), never silently replaced
    by the default or handed to the database as a number it cannot hold.
    """

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        """1 or more (at most max_page_size: larger values are capped)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        size = parse_id(raw)
        if size is None:
            raise ValidationError({self.page_size_query_param: [
                f"Send a whole number from 1 to {self.max_page_size} (larger values are "
                "capped)."]})
        return min(size, self.max_page_size)

    def decode_cursor(self, request: Request) -> Cursor | None:
        """The ``cursor`` this API handed out in ``next`` or ``previous``, or a 400."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            bad = True
        else:
            bad = cursor is not None and cursor.position is not None and not (
                parse_whole(cursor.position) is not None and not cursor.position.startswith("-"))
        if bad:
            raise ValidationError({self.cursor_query_param: [
                "This is not a cursor this API gave out: follow the next or previous link "
                "of a page, or leave cursor out to start at the newest event."]})
        return cursor


class ActorSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="user, token or system.")
    id = serializers.CharField()
    display = serializers.CharField(help_text="Frozen when the event was written.")
    user_id = serializers.IntegerField(allow_null=True)


class TargetSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()
    display = serializers.CharField()


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seq = serializers.IntegerField(allow_null=True, help_text="Place in the hash chain "
                                                              "(null until sealed).")
    time = serializers.CharField(help_text="ISO 8601, UTC.")
    action = serializers.CharField()
    action_label = serializers.CharField()
    actor = ActorSerializer()
    target = TargetSerializer()
    project_id = serializers.IntegerField(allow_null=True)
    project = serializers.CharField(allow_null=True)
    correlation_id = serializers.CharField()
    ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    data = serializers.JSONField()
    reason = serializers.CharField()
    prev_hash = serializers.CharField(allow_null=True)
    hash = serializers.CharField(allow_null=True)
    sealed_at = serializers.CharField(allow_null=True)


class EventPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = EventSerializer(many=True)


class ProblemSerializer(serializers.Serializer):
    seq = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class VerifyResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    first_bad_seq = serializers.IntegerField(allow_null=True)
    events = serializers.IntegerField()
    head_seq = serializers.IntegerField()
    head_hash = serializers.CharField()
    unsealed = serializers.IntegerField()
    checkpoints = serializers.IntegerField()
    problems = ProblemSerializer(many=True)
    seconds = serializers.FloatField()
    summary = serializers.CharField()


class ActionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()


def _filter_parameters() -> list[OpenApiParameter]:
    return [OpenApiParameter(name, OpenApiTypes.STR,
                             description=str(f.extra.get("help_text", "")))
            for name, f in EventFilterSet.base_filters.items()]


def event_row(event: AuditEvent, projects: dict[int, str]) -> dict[str, Any]:
    """One event as the API shows it."""
    action = registry.find(event.action)
    return {
        "id": event.pk, "seq": event.seq, "time": utc_iso(event.created_at),
        "action": event.action, "action_label": action.label if action else "",
        "actor": {"kind": event.actor_kind, "id": event.actor_id,
                  "display": event.actor_display, "user_id": event.actor_user_id},
        "target": {"type": event.target_type, "id": event.target_id,
                   "display": event.target_display},
        "project_id": event.project_id, "project": projects.get(event.project_id or 0),
        "correlation_id": event.correlation_id, "ip": event.ip,
        "user_agent": event.user_agent, "data": event.data, "reason": event.reason,
        "prev_hash": event.prev_hash, "hash": event.hash,
        "sealed_at": utc_iso(event.sealed_at) if event.sealed_at else None,
    }


class EventListView(APIView):
    """``GET /api/v1/audit/events/``: filter by actor, action (or ``prefix.*``), project,
    target_type + target_id, correlation_id, since/until; pages with ``?cursor=``."""

    permission_classes = [IsAuditor]

    @extend_schema(summary="Audit events, newest first (auditors and admins)",
                   parameters=[*_filter_parameters(),
                               OpenApiParameter("cursor", OpenApiTypes.STR,
                                                description="From a page's next or previous "
                                                            "link."),
                               OpenApiParameter("page_size", OpenApiTypes.INT,
                                                description="1 to 500 (default 50; larger "
                                                            "values are capped).")],
                   responses=EventPageSerializer)
    def get(self, request: Request) -> Response:
        """A page of events, newest first."""
        filters = EventFilter.from_params(request.query_params)
        paginator = EventCursor()
        page = paginator.paginate_queryset(filters.apply(AuditEvent.objects.all()), request,
                                           view=self)
        ids = {e.project_id for e in page if e.project_id}
        projects = dict(Project.objects.filter(pk__in=ids).values_list("pk", "slug"))
        return paginator.get_paginated_response([event_row(e, projects) for e in page])


class _IgnoreFormat(BaseContentNegotiation):
    """``?format=csv`` names the export's format here, not a DRF renderer."""

    def select_renderer(self, request: Request, renderers: list[Any],
                        format_suffix: str | None = None) -> tuple[Any, str]:
        """Errors are still JSON."""
        return renderers[0], renderers[0].media_type

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        """GET only; nothing to parse."""
        return parsers[0] if parsers else None


class EventExportView(APIView):
    """``GET /api/v1/audit/events/export/?format=csv|jsonl&<filters>``: a streamed file."""

    permission_classes = [IsAuditor]
    content_negotiation_class = _IgnoreFormat

    @extend_schema(summary="Export the filtered events as a stream (audited)",
                   parameters=[*_filter_parameters(),
                               OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS),
                                                description="jsonl (default) or csv.")],
                   responses={(200, media.split(";")[0]): OpenApiTypes.STR
                              for media in FORMATS.values()})
    def get(self, request: Request) -> StreamingHttpResponse:
        """Record the export, then stream it."""
        filters = EventFilter.from_params(request.query_params)
        export = start_export(filters, request.query_params.get("format", "jsonl"),
                              actor=actor_for(request.user))
        response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        response["X-Audit-Export-Event"] = str(export.event_id)
        return response


class VerifyView(APIView):
    """``GET /api/v1/audit/verify/``: the same check as ``manage.py verify_audit``.

    Seals pending events first (the only write it causes besides its own event).
    Answers 200 with ``ok`` false and ``first_bad_seq`` when the log does not hold.
    """

    permission_classes = [IsAuditor]

    @extend_schema(summary="Verify the audit log's hash chain and checkpoints",
                   parameters=[OpenApiParameter("portable", OpenApiTypes.BOOL,
                                                description="true: rebuild each record with "
                                                            "the Python reference instead "
                                                            "of the database's JSON "
                                                            "functions (slower).")],
                   responses=VerifyResultSerializer)
    def get(self, request: Request) -> Response:
        """Verify and say what was found."""
        portable = request.query_params.get("portable", "").lower() in ("1", "true", "yes")
        result = verify_and_record(actor=actor_for(request.user), via="api",
                                   portable=portable)
        return Response(result.as_dict())


class ActionListView(APIView):
    """``GET /api/v1/audit/actions/``: every registered action code, label, description."""

    permission_classes = [IsAuditor]

    @extend_schema(summary="Every audit action code", responses=ActionSerializer(many=True))
    def get(self, request: Request) -> Response:
        """All of them, sorted by code."""
        return Response([{"code": a.code, "label": a.label, "description": a.description}
                         for a in registry.all_actions()])
