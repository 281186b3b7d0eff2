"""REST for owners' webhooks: endpoints (CRUD), a test ping, the delivery log, redeliver.

Owners of the project (and platform admins) only: a member who may not manage gets a 403
that says so, anyone else a 404. The secret is in the answer to the create, once.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.core.inputs import (
    InputSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictListField,
)
from assay.core.pagination import Pagination
from governance.publishing import services
from governance.publishing.choices import DeliveryStatus, WebhookEvent
from governance.publishing.models import Delivery, WebhookEndpoint

_EVENTS = f"Events to hear about, among {', '.join(WebhookEvent.values)} (default: all)."


class WebhookInput(InputSerializer):
    """``POST /projects/{slug}/webhooks/``: a new endpoint."""

    name = StrictCharField(max_length=services.NAME_CHARS, help_text="What it is, in words.")
    url = StrictCharField(max_length=500, help_text="http(s) address Assay POSTs to; "
                                                    "local and private addresses are refused.")
    events = StrictListField(child=StrictCharField(max_length=50), required=False,
                             max_length=10, help_text=_EVENTS)
    active = StrictBooleanField(required=False, help_text="Default true.")


class WebhookPatchInput(WebhookInput):
    """``PATCH``: only the fields sent change."""

    def get_fields(self) -> dict[str, serializers.Field]:
        """Every field optional."""
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields


class WebhookSerializer(serializers.ModelSerializer):
    """An endpoint, without its secret (shown once, on create)."""

    project = serializers.CharField(source="project.slug")

    class Meta:
        model = WebhookEndpoint
        fields = ("id", "project", "name", "url", "events", "active", "publisher",
                  "created_at", "updated_at")


class WebhookCreatedSerializer(WebhookSerializer):
    """The new endpoint and its signing secret: copy it now, it is never shown again."""

    secret = serializers.CharField()

    class Meta(WebhookSerializer.Meta):
        fields = (*WebhookSerializer.Meta.fields, "secret")


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True, help_text="HTTP answer; null: "
                                                                       "none (network error).")
    ok = serializers.BooleanField()
    error = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer):
    """One delivery with its attempts."""

    asset = serializers.CharField(source="asset_id", allow_null=True)
    endpoint = serializers.IntegerField(source="endpoint_id", allow_null=True)
    redelivery_of = serializers.CharField(source="redelivery_of_id", allow_null=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempt_log = AttemptSerializer(source="tries", many=True)

    class Meta:
        model = Delivery
        fields = ("id", "event", "event_id", "publisher", "endpoint", "asset", "status",
                  "attempts", "max_attempts", "next_retry_at", "last_status_code",
                  "last_error", "last_duration_ms", "created_at", "finished_at",
                  "redelivery_of", "attempt_log")


class WebhooksView(APIView):
    """``/projects/<slug>/webhooks/``: the project's endpoints; owners add one."""

    @extend_schema(summary="A project's webhook endpoints", responses=WebhookSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """Every endpoint of the project (no secrets)."""
        rows = services.endpoints_of(request.user, slug).select_related("project")
        return Response(WebhookSerializer(rows, many=True).data)

    @extend_schema(summary="Add a webhook endpoint", request=WebhookInput,
                   responses={201: WebhookCreatedSerializer},
                   description="The answer holds the endpoint's signing secret, this once. "
                               "Each delivery is a POST signed with it: header "
                               "`Assay-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "
                               "'<t>.<body>'>`, plus `Assay-Delivery: <uuid>`.")
    def post(self, request: Request, slug: str) -> Response:
        """Add an endpoint; the secret is in the answer, once."""
        project = services.managed_project(request.user, slug)
        data = WebhookInput.validated(request.data)
        endpoint, secret = services.create_endpoint(request.user, project, **data)
        body = WebhookSerializer(endpoint).data | {"secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookView(APIView):
    """``/projects/<slug>/webhooks/<id>/``: read, change or remove one endpoint."""

    @extend_schema(summary="One webhook endpoint", responses=WebhookSerializer)
    def get(self, request: Request, slug: str, webhook_id: int) -> Response:
        """The endpoint (no secret)."""
        return Response(WebhookSerializer(
            services.endpoint_of(request.user, slug, webhook_id)).data)

    @extend_schema(summary="Change a webhook endpoint", request=WebhookPatchInput,
                   responses=WebhookSerializer,
                   description="Only the fields sent change; `active: false` turns it off. "
                               "The secret stays: add a new endpoint for a new secret.")
    def patch(self, request: Request, slug: str, webhook_id: int) -> Response:
        """Change the fields sent."""
        endpoint = services.endpoint_of(request.user, slug, webhook_id)
        data = WebhookPatchInput.validated(request.data)
        return Response(WebhookSerializer(
            services.update_endpoint(request.user, endpoint, **data)).data)

    @extend_schema(summary="Remove a webhook endpoint", responses={204: None})
    def delete(self, request: Request, slug: str, webhook_id: int) -> Response:
        """Remove it and its delivery log (the audit log keeps what happened)."""
        endpoint = services.endpoint_of(request.user, slug, webhook_id)
        services.delete_endpoint(request.user, endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PingInput(InputSerializer):
    """``POST .../ping/``: no fields."""


class WebhookPingView(APIView):
    """``/projects/<slug>/webhooks/<id>/ping/``: queue a test ping."""

    @extend_schema(summary="Send a test ping", request=PingInput,
                   responses={202: DeliverySerializer})
    def post(self, request: Request, slug: str, webhook_id: int) -> Response:
        """Queue a ping; its delivery shows in the log like any other."""
        endpoint = services.endpoint_of(request.user, slug, webhook_id)
        PingInput.validated(request.data)
        delivery = services.send_ping(request.user, endpoint)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveriesView(APIView):
    """``/projects/<slug>/webhooks/<id>/deliveries/``: the delivery log, newest first."""

    @extend_schema(summary="An endpoint's deliveries, with every attempt",
                   responses=DeliverySerializer(many=True))
    def get(self, request: Request, slug: str, webhook_id: int) -> Response:
        """Paged with ``limit``/``offset``."""
        endpoint = services.endpoint_of(request.user, slug, webhook_id)
        pager = Pagination()
        page = pager.paginate_queryset(services.deliveries_of(endpoint), request, view=self)
        return pager.get_paginated_response(DeliverySerializer(page, many=True).data)


class DeliveryView(APIView):
    """``/deliveries/<id>/``: one delivery with its attempts."""

    @extend_schema(summary="One delivery, with every attempt", responses=DeliverySerializer)
    def get(self, request: Request, delivery_id: Any) -> Response:
        """The delivery (owners of its project)."""
        return Response(DeliverySerializer(services.delivery_of(request.user,
                                                                delivery_id)).data)


class RedeliverView(APIView):
    """``/deliveries/<id>/redeliver/``: send it again as a new delivery."""

    @extend_schema(summary="Redeliver", request=PingInput, responses={202: DeliverySerializer},
                   description="A new delivery with the same event id (receivers that "
                               "deduplicate on it see a replay), attempted from the start.")
    def post(self, request: Request, delivery_id: Any) -> Response:
        """Queue the redelivery."""
        original = services.delivery_of(request.user, delivery_id)
        PingInput.validated(request.data)
        again = services.redeliver(request.user, original)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)
