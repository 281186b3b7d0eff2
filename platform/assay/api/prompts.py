"""REST endpoints of the prompt library: templates, immutable versions, labels, diff, try-it.

Each view validates the body with an input serializer, finds the template through
``visible_to`` (an outsider gets 404), and calls one service in
``assay.studio.services.prompts``, the same one the portal's prompt pages call. Label
moves go through ``move_label`` there, so its rules (protected labels go through a
promotion review) hold here too.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import validate_slug
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from assay.accounts.choices import Capability
from assay.api import serializers as s
from assay.api import views
from assay.core.exceptions import InvalidInput
from assay.core.inputs import (
    InputSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictListField,
    StrictMapField,
    StrictScalarField,
)
from assay.studio.models import Project, PromptTemplate
from assay.studio.services import prompts
from assay.studio.services.projects import require_capability

__all__ = ("LabelView", "ProjectTemplatesView", "RenderView", "TemplateDiffView",
           "VersionDetailView", "VersionsView")

TEXT_CHARS = 20_000

# --- input ---------------------------------------------------------------------------


class VariableInput(InputSerializer):
    """One declared variable: what people read when they fill it in."""

    name = StrictCharField(max_length=40, help_text="An identifier used in the text: "
                           "{{ product }}.")
    description = StrictCharField(max_length=300, required=False, allow_blank=True,
                                  help_text="The label people read, e.g. 'Product name'.")
    help = StrictCharField(max_length=500, required=False, allow_blank=True,
                           help_text="A hint shown under the input.")
    examples = StrictListField(child=StrictCharField(max_length=200), max_length=5,
                               required=False, help_text="Example values.")
    default = StrictCharField(max_length=4000, required=False, allow_blank=True,
                              trim_whitespace=False, help_text="Used when left empty.")
    required = StrictBooleanField(required=False, default=True,
                                  help_text="Must be filled in (unless it has a default).")


class VersionInput(InputSerializer):
    """``POST /templates/{id}/versions/``: a new immutable version (labelled latest)."""

    text = StrictCharField(max_length=TEXT_CHARS, trim_whitespace=False,
                           help_text="The prompt text, with {{ variables }} (Jinja syntax).")
    variables = StrictListField(child=VariableInput(), max_length=50, required=False,
                                default=list, help_text="Every variable the text uses.")
    modality = StrictCharField(max_length=10, required=False, allow_blank=True,
                               help_text="text, image, …; must be what the generator makes.")
    generator = StrictCharField(max_length=100, help_text="The default generator's id.")
    default_parameters = StrictMapField(child=StrictScalarField(max_length=1000),
                                        required=False, default=dict,
                                        help_text="Default settings, checked against the "
                                                  "generator's schema.")
    targets = StrictMapField(child=StrictScalarField(max_length=20), required=False,
                             default=dict, help_text="min_words, max_words, max_grade.")
    note = StrictCharField(max_length=300, required=False, allow_blank=True,
                           help_text="What changed, in words.")
    model = StrictCharField(max_length=100, required=False, allow_blank=True,
                            help_text="A registered model's name, used unless a run names "
                                      "another (blank: the generator's default).")


class TemplateInput(VersionInput):
    """``POST /projects/{slug}/templates/``: a template with its first version."""

    name = StrictCharField(max_length=120, help_text="The template's name.")
    slug = StrictCharField(max_length=60, required=False, allow_blank=True,
                           validators=[validate_slug],
                           help_text="Letters, digits, '-' and '_'; defaults to the name, "
                                     "slugified.")
    description = StrictCharField(max_length=2000, required=False, allow_blank=True)
    note = None  # the first version needs no note of what changed


class LabelInput(InputSerializer):
    """``POST /templates/{id}/labels/{name}/``: the version the label should point at."""

    version = StrictIntegerField(min_value=1, help_text="A version id of this template.")


class RenderInput(InputSerializer):
    """``POST /templates/{id}/render/``: unsaved text and sample values; nothing is stored.
    Text and variables left out are the latest version's."""

    text = StrictCharField(max_length=TEXT_CHARS, trim_whitespace=False, required=False)
    variables = StrictListField(child=VariableInput(), max_length=50, required=False)
    values = StrictMapField(child=StrictScalarField(max_length=10_000), required=False,
                            default=dict, help_text="Sample value per variable name.")


# --- output --------------------------------------------------------------------------


class LabelSerializer(serializers.Serializer):
    """A label and the version it points at."""

    name = serializers.CharField()
    version = serializers.IntegerField(source="version_id")
    number = serializers.IntegerField(source="version.number")
    updated_at = serializers.DateTimeField()


class DiffSerializer(serializers.Serializer):
    """Two versions and what changed between them."""

    old = s.PromptVersionSerializer(source="from")
    new = s.PromptVersionSerializer(source="to")
    text_diff = serializers.ListField(child=serializers.CharField(),
                                      help_text="Unified diff lines of the text.")
    changed = serializers.ListField(child=serializers.CharField(),
                                    help_text="Other fields that differ.")


class RenderedSerializer(serializers.Serializer):
    """The rendered prompt (not stored)."""

    prompt = serializers.CharField()
    characters = serializers.IntegerField()


# --- views ---------------------------------------------------------------------------


def _template(request: Request, template_id: int) -> PromptTemplate:
    """A template the user can see (404 otherwise, the same for absent and hidden)."""
    return PromptTemplate.objects.select_related("project").get_visible(
        request.user, template_id, noun="prompt template")


def _version_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Input field names → the service's keywords."""
    data = dict(data)
    data["generator_id"] = data.pop("generator")
    if "model" in data:
        data["default_model"] = data.pop("model")
    return data


_TEMPLATE_LIST = views.ProjectViewSet.as_view({"get": "templates"}, lookup_field="slug")


class ProjectTemplatesView(APIView):
    """A project's templates: the list (as ``project-templates``) and create.

    This path comes before the router's, so its GET answers for the ``templates`` action
    (served by it) and is documented here, paged the same way.
    """

    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(summary="A project's prompt templates",
                   responses=s.PromptTemplateSerializer(many=True))
    def get(self, request: Request, slug: str) -> Any:
        """The same list as the project's ``templates`` action."""
        return _TEMPLATE_LIST(request._request, slug=slug)

    @extend_schema(summary="Create a prompt template with its first version",
                   request=TemplateInput, responses={201: s.PromptTemplateSerializer},
                   description="Creators and owners. The first version gets the latest label.")
    def post(self, request: Request, slug: str) -> Response:
        """Create through ``write_template``."""
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
        data = _version_fields(TemplateInput.validated(request.data))
        template = prompts.write_template(project, request.user, **data)
        return Response(s.PromptTemplateSerializer(template).data,
                        status=status.HTTP_201_CREATED)


class VersionsView(APIView):
    """A template's versions: list (newest first) and add."""

    @extend_schema(summary="A template's versions, newest first",
                   responses=s.PromptVersionSerializer(many=True))
    def get(self, request: Request, template_id: int) -> Response:
        """Every version (a template has few)."""
        template = _template(request, template_id)
        rows = template.versions.order_by("-number")
        return Response(s.PromptVersionSerializer(rows, many=True).data)

    @extend_schema(summary="Add an immutable version", request=VersionInput,
                   responses={201: s.PromptVersionSerializer},
                   description="Creators and owners. The latest label moves to it.")
    def post(self, request: Request, template_id: int) -> Response:
        """Add through ``write_version``."""
        template = _template(request, template_id)
        data = _version_fields(VersionInput.validated(request.data))
        version = prompts.write_version(template, request.user, **data)
        return Response(s.PromptVersionSerializer(version).data,
                        status=status.HTTP_201_CREATED)


class VersionDetailView(APIView):
    """One version of a template."""

    @extend_schema(summary="One prompt version", responses=s.PromptVersionSerializer)
    def get(self, request: Request, template_id: int, version_id: int) -> Response:
        """The version, if it belongs to this template."""
        template = _template(request, template_id)
        return Response(s.PromptVersionSerializer(
            prompts.find_version(template, version_id)).data)


class TemplateDiffView(APIView):
    """Compare two versions of a template."""

    @extend_schema(summary="Compare two versions", responses=DiffSerializer, parameters=[
        OpenApiParameter("from", int, required=True, description="The earlier version's id."),
        OpenApiParameter("to", int, required=True, description="The later version's id.")])
    def get(self, request: Request, template_id: int) -> Response:
        """The text diff and the names of other fields that changed."""
        template = _template(request, template_id)
        missing = [name for name in ("from", "to") if not request.query_params.get(name)]
        if missing:
            raise InvalidInput(f"Name both versions to compare: ?from=<id>&to=<id> "
                               f"(missing: {', '.join(missing)}).",
                               errors={name: ["this parameter is required"] for name in missing})
        found = prompts.compare_versions(template, request.query_params["from"],
                                         request.query_params["to"])
        return Response(DiffSerializer({**found, "from": found["old"], "to": found["new"]}).data)


class LabelView(APIView):
    """Move a label (or roll it back) to one of the template's versions."""

    @extend_schema(summary="Move a label to a version", request=LabelInput,
                   responses=LabelSerializer,
                   description="Creators and owners; rolling back is moving a label to an "
                               "older version. latest moves by itself. A protected label "
                               "is refused here: it moves through a promotion review.")
    def post(self, request: Request, template_id: int, name: str) -> Response:
        """Move through ``move_label_to`` (and so ``move_label``)."""
        template = _template(request, template_id)
        data = LabelInput.validated(request.data)
        label = prompts.move_label_to(template, request.user, name=name,
                                      version_ref=data["version"])
        return Response(LabelSerializer(label).data)


class RenderView(APIView):
    """Try a template: render text with sample values; nothing is stored."""

    @extend_schema(summary="Try it: render a prompt with sample values", request=RenderInput,
                   responses=RenderedSerializer,
                   description="Creators and owners. The same sandbox and bounds as a "
                               "generation; a syntax error or a missing variable is a 400 "
                               "that says what to fix.")
    def post(self, request: Request, template_id: int) -> Response:
        """Render through ``preview_prompt``."""
        template = _template(request, template_id)
        data = RenderInput.validated(request.data)
        if "text" not in data or "variables" not in data:
            latest = template.latest_version()
            data.setdefault("text", latest.text if latest else "")
            data.setdefault("variables", latest.variables if latest else [])
        project: Project = template.project
        prompt = prompts.preview_prompt(project, request.user, **data)
        return Response({"prompt": prompt, "characters": len(prompt)})
