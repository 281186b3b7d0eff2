"""REST for a project's model allow-list: members read it, owners replace it.

The rules (owners only, registered models only, admins' "every project" models stay) are
in :mod:`assay.generation.allowlist`, which the portal's page calls too.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.accounts.choices import Capability
from assay.core.inputs import InputSerializer, StrictCharField, StrictListField
from assay.generation import allowlist
from assay.studio.services.projects import require_capability


class ProjectModelsInput(InputSerializer):
    """``PUT /projects/{slug}/models/``: the registered models this project may use."""

    models = StrictListField(child=StrictCharField(max_length=100), max_length=allowlist.MAX_MODELS,
                             help_text="Registered model names. Models an admin allowed in "
                                       "every project stay allowed whether listed or not.")


class ModelChoiceSerializer(serializers.Serializer):
    name = serializers.CharField()
    generator = serializers.CharField(source="generator_id")
    description = serializers.CharField()
    license = serializers.CharField()
    revision = serializers.CharField()
    everywhere = serializers.BooleanField(help_text="An admin allowed it in every project.")
    allowed = serializers.BooleanField(help_text="This project may use it.")
    is_default = serializers.BooleanField()


class ProjectModelsSerializer(serializers.Serializer):
    allowed = serializers.ListField(child=serializers.CharField(),
                                    help_text="Names of the models this project may use.")
    models = ModelChoiceSerializer(many=True, help_text="Every registered model.")


class ProjectModelsView(APIView):
    """``/projects/<slug>/models/``: which registered models the project may use."""

    @extend_schema(summary="The models a project may use", responses=ProjectModelsSerializer)
    def get(self, request: Request, slug: str) -> Response:
        """Every registered model, with whether this project may use it."""
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
        return Response(self._body(project))

    @extend_schema(summary="Choose the models a project may use", request=ProjectModelsInput,
                   responses=ProjectModelsSerializer,
                   description="Owners only (403 otherwise). Replaces the project's own "
                               "list in one transaction with its audit event; an unknown "
                               "model name is a 400 and changes nothing. Submissions naming "
                               "a model off the list are refused (403).")
    def put(self, request: Request, slug: str) -> Response:
        """Replace the project's list."""
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
        data = ProjectModelsInput.validated(request.data)
        allowlist.set_project_models(request.user, project, data["models"])
        return Response(self._body(project))

    @staticmethod
    def _body(project: object) -> dict[str, object]:
        choices = allowlist.model_choices(project)  # type: ignore[arg-type]
        return {"allowed": [c.name for c in choices if c.allowed],
                "models": ModelChoiceSerializer(choices, many=True).data}
