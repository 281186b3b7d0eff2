"""REST for the inbox: ``GET /api/v1/inbox/`` (what changed for me) and
``POST /api/v1/inbox/read/`` (mark all read). The portal's inbox page reads the same
functions (``governance.review.inbox``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.core.inputs import InputSerializer
from assay.core.pagination import Pagination
from governance.review import inbox
from governance.review.choices import InboxKind


class MarkReadInput(InputSerializer):
    """``POST /inbox/read/``: nothing to send (an empty object)."""


class InboxEntrySerializer(serializers.Serializer):
    """One entry: what happened, to which review, and what to do next."""

    kind = serializers.ChoiceField(choices=InboxKind.choices,
                                   help_text="review_requested, due_soon, changes_requested, "
                                             "approved or rejected.")
    label = serializers.CharField(help_text="The kind in words.")
    message = serializers.CharField(help_text="What happened, in words.")
    next_step = serializers.CharField(help_text="What you can do about it, in words.")
    at = serializers.DateTimeField(help_text="When it happened (for due_soon: when the "
                                             "review became due soon).")
    unread = serializers.BooleanField(help_text="Newer than your last 'mark all read'.")
    review = serializers.IntegerField(source="item.review_id")
    project = serializers.CharField(source="item.review.project.slug")
    asset = serializers.CharField(source="item.review.asset_id")
    asset_kind = serializers.CharField(source="item.review.asset.kind")
    review_status = serializers.CharField(source="item.review.status")
    stage = serializers.CharField(source="item.stage_name")
    due_at = serializers.DateTimeField(source="item.due_at", allow_null=True)
    actor = serializers.CharField(source="item.actor_name",
                                  help_text="Who decided (decisions only).")
    note = serializers.CharField(source="item.note", help_text="What the reviewer wrote.")


class InboxPageSerializer(serializers.Serializer):
    """A page of the inbox, newest first, with the unread count."""

    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    unread = serializers.IntegerField(help_text="Entries newer than your last 'mark all read'.")
    seen_at = serializers.DateTimeField(allow_null=True,
                                        help_text="When you last marked the inbox read.")
    results = InboxEntrySerializer(many=True)


class MarkedReadSerializer(serializers.Serializer):
    seen_at = serializers.DateTimeField()
    unread = serializers.IntegerField()


class InboxView(APIView):
    """What changed for the requesting user, newest first (``?limit=&offset=``)."""

    @extend_schema(summary="Your inbox: what changed for you in review",
                   responses=InboxPageSerializer,
                   parameters=[
                       OpenApiParameter("limit", int, description="Entries per page (1 to "
                                        f"{Pagination.max_limit})."),
                       OpenApiParameter("offset", int, description="Entries to skip.")],
                   description="Reviews that await your decision, those of them due soon, "
                               "and the outcome of reviews of assets you generated or "
                               "submitted. Only your own entries, in projects you can see.")
    def get(self, request: Request) -> Response:
        """One page of entries with the unread count."""
        paginator = Pagination()
        rows = paginator.paginate_queryset(inbox.feed(request.user), request, view=self)
        seen = inbox.seen_at(request.user)
        data: dict[str, Any] = {
            "count": paginator.count, "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "unread": inbox.unread_count(request.user), "seen_at": seen,
            "results": inbox.entries(request.user, rows or [], seen)}
        return Response(InboxPageSerializer(data).data)


class InboxReadView(APIView):
    """Mark every entry up to now read."""

    @extend_schema(summary="Mark your inbox read", request=MarkReadInput,
                   responses={200: MarkedReadSerializer})
    def post(self, request: Request) -> Response:
        """200 with the new read mark."""
        MarkReadInput.validated(request.data)
        seen = inbox.mark_read(request.user)
        return Response({"seen_at": seen, "unread": inbox.unread_count(request.user)})
