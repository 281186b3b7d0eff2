"""REST for API tokens: ``/tokens/`` lists and creates, ``/tokens/{id}/revoke/`` revokes.

Everyone manages their own tokens; platform admins list and revoke anyone's. The secret is
in the create response only; the database keeps its SHA-256 digest. Rules live in
:mod:`assay.accounts.services`, which the portal page and the commands call too.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from assay.accounts import services
from assay.accounts.choices import TokenScope, TokenStatus
from assay.accounts.models import APIToken
from assay.core.inputs import InputSerializer, StrictCharField, StrictIntegerField
from assay.core.rest import ScopedViewSet


class TokenScopeField(serializers.ChoiceField):
    """``"read"`` or ``"write"``, as text only (a list or a number is not coerced)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=TokenScope.choices, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        """Refuse anything but one of the scope names."""
        if not isinstance(data, str):
            raise serializers.ValidationError(
                f"Send one of {', '.join(TokenScope.values)} as text.")
        return super().to_internal_value(data)


class TokenCreateInput(InputSerializer):
    """``POST /tokens/``: a name, a scope and a lifetime in days."""

    name = StrictCharField(max_length=services.TOKEN_NAME_CHARS,
                           help_text="A label that says where the token is used.")
    scope = TokenScopeField(help_text="read: safe methods only (GET, HEAD, OPTIONS); write: "
                                      "everything your roles allow.")
    days = StrictIntegerField(required=False, default=90, min_value=1,
                              max_value=services.TOKEN_MAX_DAYS,
                              help_text="Lifetime in days (default 90).")


class TokenRevokeInput(InputSerializer):
    """``POST /tokens/{id}/revoke/``: an optional reason, kept in the audit log."""

    reason = StrictCharField(required=False, allow_blank=True,
                             max_length=services.REVOKE_REASON_CHARS,
                             help_text="Why, in words (at most 500 characters).")


class TokenSerializer(serializers.ModelSerializer):
    """A token as lists show it: never its secret or digest."""

    user = serializers.CharField(source="user.username", read_only=True)
    status = serializers.ChoiceField(choices=TokenStatus.choices, read_only=True,
                                     help_text="Whether the token still authenticates.")

    class Meta:
        model = APIToken
        fields = ("id", "name", "user", "scope", "prefix", "status", "created_at",
                  "expires_at", "last_used_at", "revoked_at")
        read_only_fields = fields


class TokenCreatedSerializer(TokenSerializer):
    """The new token, with its secret: shown this once, stored only as a digest."""

    token = serializers.CharField(read_only=True,
                                  help_text="Send as 'Authorization: Bearer <token>'. It is "
                                            "not shown again.")

    class Meta(TokenSerializer.Meta):
        fields = (*TokenSerializer.Meta.fields, "token")
        read_only_fields = fields


class TokenFilter(django_filters.FilterSet):
    """``?user=`` (admins: one user's tokens) and ``?status=active|expired|revoked``."""

    user = django_filters.CharFilter(field_name="user__username", max_length=150,
                                     help_text="A username (admins see everyone's tokens).")
    status = django_filters.ChoiceFilter(choices=TokenStatus.choices, method="filter_status",
                                         help_text="Only tokens in this state.")

    class Meta:
        model = APIToken
        fields = ("user", "status")

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Status is computed from revoked_at and expires_at."""
        now = timezone.now()
        if value == TokenStatus.REVOKED:
            return queryset.filter(revoked_at__isnull=False)
        if value == TokenStatus.EXPIRED:
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return queryset.filter(Q(revoked_at__isnull=True) & Q(expires_at__gt=now))


@extend_schema_view(
    list=extend_schema(summary="API tokens you can manage",
                       description="Your tokens; platform admins see everyone's."),
    retrieve=extend_schema(summary="One API token"),
)
class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """List, create and revoke API tokens."""

    model = APIToken
    related = ("user",)
    serializer_class = TokenSerializer
    filterset_class = TokenFilter
    lookup_value_regex = "[0-9]{1,18}"

    @extend_schema(summary="Create an API token", request=TokenCreateInput,
                   responses={201: TokenCreatedSerializer},
                   description="For yourself. The secret is in this response only. A call "
                               "made with a token cannot create a token that outlives it.")
    def create(self, request: Request) -> Response:
        """201 with the token and its secret, or a 4xx that says what to fix."""
        data = TokenCreateInput.validated(request.data)
        via = request.auth if isinstance(request.auth, APIToken) else None
        token, raw = services.create_token(request.user, by=request.user, via=via, **data)
        body = TokenSerializer(token).data
        body["token"] = raw
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # the secret must not sit in a cache
        return response

    @extend_schema(summary="Revoke an API token", request=TokenRevokeInput,
                   responses={200: TokenSerializer},
                   description="Refused from the next request on (401). Revoking a "
                               "revoked token is a 409.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke one of your tokens (admins: anyone's)."""
        data = TokenRevokeInput.validated(request.data)
        token = services.revoke_token(pk, by=request.user, reason=data.get("reason", ""))
        return Response(TokenSerializer(self.get_queryset().get(pk=token.pk)).data)
