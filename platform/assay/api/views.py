"""REST v1 views: parse the request, call a service, serialise the result."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpResponse
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.api import serializers as s
from assay.core.exceptions import InvalidInput, NotPermitted
from assay.core.rest import ScopedViewSet
from assay.generation.models import GenerationJob
from assay.generation.services import cancel_job, submit_generation
from assay.plugins.manager import get_plugins
from assay.studio.models import Asset, Project, PromptTemplate
from governance.provenance.downloads import asset_download

_SUBMIT_FIELDS = ("project", "prompt_version", "template", "label", "version", "variables",
                  "generator", "parameters", "model", "parent_asset")


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Projects the user belongs to (all of them for auditors and admins)."""

    model = Project
    related = ("team",)
    serializer_class = s.ProjectSerializer
    lookup_field = "slug"

    @action(detail=True, methods=["get"])
    def assets(self, request: Request, slug: str | None = None) -> Response:
        """The project's assets, newest first."""
        project = self.get_object()
        qs = Asset.objects.visible_to(request.user).filter(project=project).select_related(
            "project")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.AssetSerializer(page, many=True).data)

    @action(detail=True, methods=["get"])
    def templates(self, request: Request, slug: str | None = None) -> Response:
        """The project's prompt templates with their versions and labels."""
        project = self.get_object()
        qs = PromptTemplate.objects.visible_to(request.user).filter(project=project)
        qs = qs.prefetch_related("versions", "labels__version")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.PromptTemplateSerializer(page, many=True).data)


class GenerationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Submit generations, follow their status and progress, cancel them."""

    model = GenerationJob
    related = ("project", "requested_by", "prompt_version__template")
    serializer_class = s.JobSerializer

    def get_queryset(self) -> Any:
        """Scoped jobs with their assets prefetched (no per-row queries)."""
        qs = super().get_queryset().prefetch_related(
            Prefetch("assets", queryset=Asset.objects.select_related("project")))
        project = self.request.query_params.get("project")
        if project:
            qs = qs.filter(project__slug=project)
        status_filter = self.request.query_params.get("status")
        if status_filter:
            qs = qs.filter(status=status_filter)
        return qs

    def create(self, request: Request) -> Response:
        """Queue a generation; 201 with the job, or a 4xx that says what to fix."""
        if not isinstance(request.data, dict):
            raise InvalidInput("Send a JSON object.")
        unknown = sorted(set(request.data) - set(_SUBMIT_FIELDS))
        if unknown:
            raise InvalidInput(f"Unknown fields: {', '.join(unknown)} "
                               f"(accepted: {', '.join(_SUBMIT_FIELDS)}).",
                               errors={name: ["unknown field"] for name in unknown})
        if not request.data.get("project"):
            raise InvalidInput("Name the project (its slug or id).",
                               errors={"project": ["this field is required"]})
        job = submit_generation(request.user, **{k: request.data.get(k) for k in _SUBMIT_FIELDS})
        job = self.get_queryset().get(pk=job.pk)
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a queued job, or ask a running one to stop."""
        job = cancel_job(request.user, self.get_object(), reason=str(request.data.get("reason",
                                                                                       ""))[:500])
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data)


class AssetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Assets across the user's projects."""

    model = Asset
    related = ("project",)
    serializer_class = s.AssetSerializer

    @action(detail=True, methods=["get"])
    def content(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The stored bytes, with the asset's media type and SHA-256 in a header."""
        return asset_download(self.get_object())


class GeneratorsView(APIView):
    """Installed generators with their parameter schemas."""

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

    def get(self, request: Request) -> Response:
        """Loaded, failed and incompatible plugins, with their errors."""
        if not getattr(request.user, "is_platform_admin", False):
            raise NotPermitted("Only platform admins can see plugin status.")
        return Response([st.as_dict() for st in get_plugins().statuses])
