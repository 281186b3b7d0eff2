"""REST for quotas (members read theirs, owners and admins set) and usage (auditors)."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.accounts.choices import Capability
from assay.core.exceptions import InvalidInput
from assay.core.inputs import InputSerializer, StrictCharField, StrictIntegerField
from assay.studio.services.projects import require_capability
from governance.usage import services
from governance.usage.choices import Metric, QuotaScope
from governance.usage.filters import GROUPS, UsageFilter


class QuotaInput(InputSerializer):
    """``PUT /projects/{slug}/quotas/``: one quota of this project, its team or a member."""

    scope = StrictCharField(max_length=20, help_text=f"One of {', '.join(QuotaScope.values)} "
                                                     "(team: platform admins only).")
    metric = StrictCharField(max_length=40, help_text=f"One of {', '.join(Metric.values)}.")
    limit = StrictIntegerField(min_value=0, help_text="Per calendar month (UTC); a JSON "
                                                      "integer from 0 to 2^63-1.")
    user = StrictCharField(max_length=150, required=False, allow_blank=True,
                           help_text="For scope user: the member's username.")


class QuotaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scope = serializers.ChoiceField(choices=QuotaScope.choices)
    subject = serializers.CharField(help_text="Whose work it limits, in words.")
    team = serializers.CharField(allow_null=True)
    project = serializers.CharField(allow_null=True)
    user = serializers.CharField(allow_null=True)
    metric = serializers.ChoiceField(choices=Metric.choices)
    limit = serializers.IntegerField()
    used = serializers.FloatField(help_text="By jobs that succeeded this month.")
    reserved = serializers.FloatField(help_text="By jobs queued or running.")
    left = serializers.FloatField()
    resets_at = serializers.DateTimeField()


class ProjectQuotaSerializer(QuotaSerializer):
    applies_to_you = serializers.BooleanField()


class QuotaListSerializer(serializers.Serializer):
    project = serializers.CharField()
    team = serializers.CharField()
    resets_at = serializers.DateTimeField()
    quotas = ProjectQuotaSerializer(many=True)


class QuotasView(APIView):
    """``/projects/<slug>/quotas/``: what is left this month; owners and admins set."""

    @extend_schema(summary="A project's quotas and what is left this month",
                   responses=QuotaListSerializer)
    def get(self, request: Request, slug: str) -> Response:
        """The quotas this member may see, each with limit, used, left and reset."""
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
        return Response(services.quotas_for(request.user, project))

    @extend_schema(summary="Set one quota", request=QuotaInput, responses=QuotaSerializer,
                   description="Creates the quota or changes its limit (POST does the same). "
                               "Owners set the project's and its members' quotas, platform "
                               "admins also the team's. One transaction with its audit "
                               "event: a refusal changes nothing.")
    def put(self, request: Request, slug: str) -> Response:
        """Set one quota: ``{"scope": "project", "metric": "jobs", "limit": 100}``."""
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
        data = QuotaInput.validated(request.data)
        return Response(services.set_project_quota(request.user, project, data))

    post = put


class UsageTotalsSerializer(serializers.Serializer):
    """What a set of jobs used."""

    jobs = serializers.IntegerField()
    images = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    steps = serializers.IntegerField()
    wall_seconds = serializers.FloatField()
    accelerator_seconds = serializers.FloatField()


class UsageRowSerializer(UsageTotalsSerializer):
    """One group's sums (the group columns appear only when grouped by them)."""

    user = serializers.CharField(required=False, allow_null=True)
    team = serializers.CharField(required=False, allow_null=True)
    project = serializers.CharField(required=False, allow_null=True)
    generator = serializers.CharField(required=False, allow_null=True)
    model = serializers.CharField(required=False, allow_null=True)
    day = serializers.DateField(required=False, allow_null=True)


class UsageReportSerializer(serializers.Serializer):
    group_by = serializers.ListField(child=serializers.ChoiceField(choices=list(GROUPS)))
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    project = serializers.CharField(allow_blank=True)
    team = serializers.CharField(allow_blank=True)
    user = serializers.CharField(allow_blank=True)
    rows = UsageRowSerializer(many=True)
    totals = UsageTotalsSerializer()


def filter_parameters(filterset: type[Any]) -> list[OpenApiParameter]:
    """A FilterSet's parameters for an APIView's schema (DRF's list views get them from
    DjangoFilterBackend; these views answer reports and streams, not pages)."""
    types = {"DateFilter": OpenApiTypes.DATE}
    return [OpenApiParameter(name, types.get(type(f).__name__, OpenApiTypes.STR),
                             description=str(f.extra.get("help_text", "")))
            for name, f in filterset.base_filters.items()]


class UsageView(APIView):
    """``/usage/``: rolled-up usage for auditors and admins; ``?format=csv`` exports it."""

    def perform_content_negotiation(self, request: Request,
                                    force: bool = False) -> tuple[BaseRenderer, str]:
        """Always JSON (errors included); DRF would answer 404 to ``?format=csv``."""
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        summary="Usage rolled up by group (auditors and admins)",
        parameters=[*filter_parameters(UsageFilter),
                    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"],
                                     description="csv: a streamed, audited export.")],
        responses={(200, "application/json"): UsageReportSerializer,
                   (200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request) -> Any:
        """JSON rows and totals, or a streamed CSV download (an audited export)."""
        query = services.usage_query(request.user, request.query_params)
        fmt = request.query_params.get("format") or "json"
        if fmt not in ("json", "csv"):
            raise InvalidInput("format must be json or csv.",
                               errors={"format": ["json or csv"]})
        if fmt == "csv":
            response = StreamingHttpResponse(services.export_csv(request.user, query),
                                             content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="usage.csv"'
            return response
        return Response(services.usage_report(request.user, query))
