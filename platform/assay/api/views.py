"""REST v1 views: validate the request with an input serializer, call a service,
serialise the result. No rules live here."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.api import serializers as s
from assay.api.filters import AssetFilter, GenerationFilter
from assay.core.exceptions import NotPermitted
from assay.core.rest import ScopedViewSet
from assay.generation.models import GenerationJob
from assay.generation.services import cancel_job
from assay.plugins.manager import get_plugins
from assay.studio.models import Asset, Project, PromptTemplate
from governance.provenance.library import library
from governance.provenance.lineage import versions
from governance.provenance.readback import attachment, credentials_for
from governance.review.styled import styled_submission

_BINARY = OpenApiResponse(OpenApiTypes.BINARY, description="The exact stored bytes, with "
                         "Content-Type the asset's media type and X-Content-SHA256.")


@extend_schema_view(list=extend_schema(summary="Projects you belong to"),
                    retrieve=extend_schema(summary="One project"))
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Projects the user belongs to (all of them for auditors and admins)."""

    model = Project
    related = ("team",)
    serializer_class = s.ProjectSerializer
    lookup_field = "slug"

    @extend_schema(summary="A project's assets", responses=s.AssetSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def assets(self, request: Request, slug: str | None = None) -> Response:
        """The project's assets, newest first."""
        project = self.get_object()
        qs = Asset.objects.visible_to(request.user).filter(project=project).select_related(
            "project")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.AssetSerializer(page, many=True).data)

    @extend_schema(summary="A project's prompt templates",
                   responses=s.PromptTemplateSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def templates(self, request: Request, slug: str | None = None) -> Response:
        """The project's prompt templates with their versions and labels."""
        project = self.get_object()
        qs = PromptTemplate.objects.visible_to(request.user).filter(project=project)
        qs = qs.prefetch_related("versions", "labels__version")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.PromptTemplateSerializer(page, many=True).data)


@extend_schema_view(list=extend_schema(summary="Generation jobs you can see"),
                    retrieve=extend_schema(summary="One job: status, progress, outputs"))
class GenerationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Submit generations, follow their status and progress, cancel them."""

    model = GenerationJob
    related = ("project", "requested_by", "prompt_version__template")
    serializer_class = s.JobSerializer
    filterset_class = GenerationFilter

    def get_queryset(self) -> Any:
        """Scoped jobs with their assets prefetched (no per-row queries)."""
        return super().get_queryset().prefetch_related(
            Prefetch("assets", queryset=Asset.objects.select_related("project")))

    @extend_schema(summary="Submit a generation", request=s.GenerationInput,
                   responses={201: s.JobSerializer})
    def create(self, request: Request) -> Response:
        """Queue a generation; 201 with the job, or a 4xx that says what to fix."""
        data = s.GenerationInput.validated(request.data)
        job = styled_submission(request.user, **data)
        job = self.get_queryset().get(pk=job.pk)
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Cancel a job", request=s.CancelInput,
                   responses={200: s.JobSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a queued job, or ask a running one to stop."""
        data = s.CancelInput.validated(request.data)
        job = cancel_job(request.user, self.get_object(), reason=data.get("reason", ""))
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data)


@extend_schema_view(list=extend_schema(summary="Assets across your projects"),
                    retrieve=extend_schema(summary="One asset"))
class AssetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Assets across the user's projects: the asset library, filtered as the portal's."""

    model = Asset
    related = ("project",)
    serializer_class = s.LibraryAssetSerializer
    filterset_class = AssetFilter

    def get_queryset(self) -> Any:
        """The library's rows (scoped, with review state and signature annotated)."""
        if getattr(self, "swagger_fake_view", False):
            return Asset.objects.none()
        return library(self.request.user)

    @extend_schema(summary="Download an asset's bytes", responses={(200, "*/*"): _BINARY})
    @action(detail=True, methods=["get"], filter_backends=[])
    def content(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The bytes a download hands out (the signed copy once approved), as an
        attachment with a readable name, their SHA-256 in a header."""
        return attachment(self.get_object())

    @extend_schema(summary="An asset's versions",
                   responses=s.AssetVersionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """The revision chain, first version first, each with how it was made."""
        return Response([v.as_dict() for v in versions(self.get_object())])

    @extend_schema(summary="An asset's Content Credentials",
                   responses=s.AssetCredentialsSerializer)
    @action(detail=True, methods=["get"], filter_backends=[])
    def credentials(self, request: Request, pk: str | None = None) -> Response:
        """Signed or not; what the signed file says (read back), who approved, and the
        hash and size of the bytes a download hands out."""
        return Response(credentials_for(self.get_object()).as_dict())


class GeneratorsView(APIView):
    """Installed generators with their parameter schemas."""

    @extend_schema(summary="Installed generators", responses=s.GeneratorSerializer(many=True))
    def get(self, request: Request) -> Response:
        """One entry per generator id."""
        plugins = get_plugins()
        return Response([
            {"id": g.id, "modality": g.modality, "version": g.version, "queue": g.queue,
             "needs_gpu": g.needs_gpu, "plugin": plugins.generator_plugin.get(g.id, ""),
             "description": g.description,
             "parameters": [p.describe() for p in g.all_parameters()]}
            for g in sorted(plugins.generators.values(), key=lambda g: g.id)
        ])


class PluginsView(APIView):
    """Every discovered plugin with its status (admins only)."""

    @extend_schema(summary="Plugin status (admins)",
                   responses=s.PluginStatusSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Loaded, failed and incompatible plugins, with their errors."""
        if not getattr(request.user, "is_platform_admin", False):
            raise NotPermitted("Only platform admins can see plugin status.")
        return Response([st.as_dict() for st in get_plugins().statuses])
