"""REST twins of the portal's admin screens: signing credentials and system health.

Platform admins only; everyone else gets a 403 that says so. Each view calls the same
read the portal screen calls (``governance.provenance.credential_status`` and
``assay.generation.health``) and serialises it: no rules live here. Plugin status is
``GET /plugins/`` (``assay.api.views.PluginsView``); every user's API tokens are
``GET /tokens/`` as an admin.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.core.exceptions import NotPermitted
from assay.generation.health import system_health
from governance.provenance.credential_status import WARN_WITHIN_DAYS, credential_status


def _require_admin(request: Request, what: str) -> None:
    if not getattr(request.user, "is_platform_admin", False):
        raise NotPermitted(f"Only platform admins can see {what}.")


class CredentialStatusSerializer(serializers.Serializer):
    """The signing certificate (never its key)."""

    state = serializers.ChoiceField(
        choices=["ok", "expiring", "expired", "not_yet_valid", "unavailable"],
        help_text=f"expiring: within {WARN_WITHIN_DAYS} days of its end.")
    warn = serializers.BooleanField(help_text="Needs attention (signing stops or will).")
    summary = serializers.CharField(help_text="What it means, in words.")
    subject = serializers.CharField(allow_blank=True)
    issuer = serializers.CharField(allow_blank=True)
    not_before = serializers.DateTimeField(allow_null=True)
    not_after = serializers.DateTimeField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True, help_text="Whole days until expiry.")
    fingerprint = serializers.CharField(allow_blank=True,
                                        help_text="SHA-256 of the certificate (DER), hex.")
    algorithm = serializers.CharField(allow_blank=True)
    timestamp_authority = serializers.BooleanField(
        help_text="Whether signatures are timestamped (then they outlive the certificate).")
    problem = serializers.CharField(allow_blank=True,
                                    help_text="Why no credentials could be read, if so.")


class CredentialsView(APIView):
    """The configured signing certificate and how long it has left (admins only)."""

    @extend_schema(summary="Signing credentials (admins)",
                   responses=CredentialStatusSerializer)
    def get(self, request: Request) -> Response:
        """Subject, issuer, validity, days left, fingerprint and a warning state."""
        _require_admin(request, "the signing credentials")
        status = credential_status()
        return Response(CredentialStatusSerializer({**asdict(status), "warn": status.warn}).data)


class CheckSerializer(serializers.Serializer):
    """One component."""

    ok = serializers.BooleanField()
    summary = serializers.CharField()
    problem = serializers.CharField(allow_blank=True)


class QueueDepthSerializer(serializers.Serializer):
    """Messages waiting on one Celery queue."""

    name = serializers.CharField()
    waiting = serializers.IntegerField(allow_null=True,
                                       help_text="null: this broker cannot say (unknown).")


class WorkerSeenSerializer(serializers.Serializer):
    """A worker seen in the job table."""

    name = serializers.CharField()
    running = serializers.IntegerField(help_text="Jobs it holds a lease on now.")
    lease_expires_at = serializers.DateTimeField(allow_null=True)
    lease_lapsed = serializers.BooleanField(
        help_text="Its lease ran out: the sweeper hands the job to another worker.")
    last_finished_at = serializers.DateTimeField(allow_null=True)


class SystemHealthSerializer(serializers.Serializer):
    """Database, broker, queue depths and workers."""

    ok = serializers.BooleanField(help_text="Database and broker both answer.")
    database = CheckSerializer()
    broker = CheckSerializer()
    broker_kind = serializers.ChoiceField(choices=["Redis", "folder broker", "other"])
    queues = QueueDepthSerializer(many=True)
    queued_jobs = serializers.IntegerField(help_text="Jobs waiting in the database.")
    workers = WorkerSeenSerializer(many=True)


class HealthView(APIView):
    """System health in detail (admins only; ``/readyz`` is the public probe)."""

    @extend_schema(summary="System health (admins)", responses=SystemHealthSerializer)
    def get(self, request: Request) -> Response:
        """Always 200 with the report: a component that is down says so in it."""
        _require_admin(request, "system health")
        health = system_health()
        body: dict[str, Any] = {**asdict(health), "ok": health.ok}
        return Response(SystemHealthSerializer(body).data)
