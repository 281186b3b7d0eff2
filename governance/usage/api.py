"""REST for quotas (members read theirs, owners and admins set) and usage (auditors)."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.accounts.choices import Capability
from assay.studio.services.projects import require_capability
from governance.usage import services


class QuotasView(APIView):
    """``/projects/<slug>/quotas/``: what is left this month; owners and admins set."""

    def get(self, request: Request, slug: str) -> Response:
        """The quotas this member may see, each with limit, used, left and reset."""
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
        return Response(services.quotas_for(request.user, project))

    def put(self, request: Request, slug: str) -> Response:
        """Set one quota: ``{"scope": "project", "metric": "jobs", "limit": 100}``."""
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
        body = request.data if isinstance(request.data, dict) else {}
        return Response(services.set_project_quota(request.user, project, body))

    post = put


class UsageView(APIView):
    """``/usage/``: rolled-up usage for auditors and admins; ``?format=csv`` exports it."""

    def perform_content_negotiation(self, request: Request,
                                    force: bool = False) -> tuple[BaseRenderer, str]:
        """Always JSON (errors included); DRF would answer 404 to ``?format=csv``."""
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def get(self, request: Request) -> Any:
        """JSON rows and totals, or a streamed CSV download (an audited export)."""
        query = services.usage_query(request.user, request.query_params)
        if request.query_params.get("format") == "csv":
            response = StreamingHttpResponse(services.export_csv(request.user, query),
                                             content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="usage.csv"'
            return response
        return Response(services.usage_report(request.user, query))
