"""REST for the brand kit's named image styles: list, add, read, change, remove.

Members (and auditors, admins) read a project's styles, so creators can pick one
(``style`` on ``POST /generations/``); owners (and admins) write. Outsiders get a 404,
members who may not manage a 403 that says so. Shape is checked here; the rules (bounds,
unique names, an approved reference image) are ``governance.review.styles``'s.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.core.inputs import InputSerializer, StrictCharField, StrictFloatField, StrictIntegerField
from governance.review import styles
from governance.review.style_models import BrandStyle

_SIZE = (f"Pixels, {styles.SIZE_MIN} to {styles.SIZE_MAX}, a multiple of "
         f"{styles.SIZE_MULTIPLE}; null: the generator's default.")


class BrandStyleInput(InputSerializer):
    """``POST /projects/{slug}/brand-styles/``: a new style (only ``name`` is required)."""

    name = StrictCharField(max_length=styles.NAME_CHARS,
                           help_text="Unique in the project, whatever its case.")
    description = StrictCharField(required=False, allow_blank=True,
                                  max_length=styles.DESCRIPTION_CHARS,
                                  help_text="What the style is for, in words.")
    prompt_additions = StrictCharField(required=False, allow_blank=True,
                                       max_length=styles.ADDITION_CHARS,
                                       help_text="Words added after the rendered prompt.")
    negative_prompt = StrictCharField(required=False, allow_blank=True,
                                      max_length=styles.NEGATIVE_CHARS,
                                      help_text="What the images should not show; put "
                                                "before the creator's own.")
    width = StrictIntegerField(required=False, allow_null=True, help_text=_SIZE)
    height = StrictIntegerField(required=False, allow_null=True, help_text=_SIZE)
    steps = StrictIntegerField(required=False, allow_null=True,
                               help_text=f"Refinement steps, {styles.STEPS_MIN} to "
                                         f"{styles.STEPS_MAX}; null: the generator's default.")
    reference = serializers.UUIDField(required=False, allow_null=True,
                                      help_text="An approved image asset of this project that "
                                                "every styled image starts from "
                                                "(image-to-image); null: none.")
    strength = StrictFloatField(required=False,
                                help_text=f"With a reference: how much of it is repainted, "
                                          f"{styles.STRENGTH_MIN} to {styles.STRENGTH_MAX} "
                                          "(default 0.6).")

    def validate_reference(self, value: Any) -> Any:
        """UUIDField also takes integers; an asset id is text."""
        raw = self.initial_data.get("reference")
        if raw is not None and not isinstance(raw, str):
            raise serializers.ValidationError("Send the asset id as text (a UUID).")
        return value


class BrandStylePatchInput(BrandStyleInput):
    """``PATCH``: only the fields sent change."""

    def get_fields(self) -> dict[str, serializers.Field]:
        """Every field optional."""
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields


class BrandStyleSerializer(serializers.ModelSerializer):
    """A style as creators pick it and owners edit it."""

    project = serializers.CharField(source="project.slug")
    reference = serializers.UUIDField(source="reference_id", allow_null=True)

    class Meta:
        model = BrandStyle
        fields = ("id", "project", "name", "description", "prompt_additions",
                  "negative_prompt", "width", "height", "steps", "reference", "strength",
                  "created_at", "updated_at")


class BrandStylesView(APIView):
    """``/projects/<slug>/brand-styles/``: the project's styles; owners add one."""

    @extend_schema(summary="A project's brand styles", responses=BrandStyleSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """Every style of the project, by name."""
        return Response(BrandStyleSerializer(styles.styles_of(request.user, slug),
                                             many=True).data)

    @extend_schema(summary="Add a brand style", request=BrandStyleInput,
                   responses={201: BrandStyleSerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Add a style (owners only)."""
        project = styles.managed_project(request.user, slug)
        data = BrandStyleInput.validated(request.data)
        style = styles.create_style(request.user, project, data)
        return Response(BrandStyleSerializer(style).data, status=status.HTTP_201_CREATED)


class BrandStyleView(APIView):
    """``/projects/<slug>/brand-styles/<id>/``: read, change or remove one style."""

    @extend_schema(summary="One brand style", responses=BrandStyleSerializer)
    def get(self, request: Request, slug: str, style_id: int) -> Response:
        """The style."""
        return Response(BrandStyleSerializer(
            styles.style_of(request.user, slug, style_id)).data)

    @extend_schema(summary="Change a brand style", request=BrandStylePatchInput,
                   responses=BrandStyleSerializer,
                   description="Only the fields sent change; `null` clears a size, the "
                               "steps or the reference. Jobs already made keep theirs.")
    def patch(self, request: Request, slug: str, style_id: int) -> Response:
        """Change the fields sent (owners only)."""
        style = styles.style_of(request.user, slug, style_id)
        styles.managed_project(request.user, style.project)
        data = BrandStylePatchInput.validated(request.data)
        return Response(BrandStyleSerializer(
            styles.update_style(request.user, style, data)).data)

    @extend_schema(summary="Remove a brand style", responses={204: None})
    def delete(self, request: Request, slug: str, style_id: int) -> Response:
        """Remove it (owners only); jobs made with it keep its name."""
        style = styles.style_of(request.user, slug, style_id)
        styles.delete_style(request.user, style)
        return Response(status=status.HTTP_204_NO_CONTENT)
