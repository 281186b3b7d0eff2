"""The API's serializers: output ones shape rows for JSON; input ones (InputSerializer)
check a request's types, lengths and ranges before a service applies the rules."""

from __future__ import annotations

import os
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assay.core.inputs import (
    InputSerializer,
    StrictCharField,
    StrictIntegerField,
    StrictMapField,
    StrictScalarField,
    StrictSlugOrIdField,
)
from assay.generation.models import GenerationJob
from assay.studio.models import Asset, Project, PromptTemplate, PromptVersion

# --- input ---------------------------------------------------------------------------


class GenerationInput(InputSerializer):
    """``POST /generations/``: name the prompt version (``prompt_version``, or ``template``
    with ``label`` or ``version``), its variables, and optionally the generator, its
    parameters, a registered model and an image-to-image parent asset."""

    project = StrictSlugOrIdField(help_text="The project's slug or id.")
    prompt_version = StrictIntegerField(required=False, allow_null=True, min_value=1,
                                        help_text="A prompt version id; or name a template.")
    template = StrictSlugOrIdField(required=False, allow_null=True,
                                   help_text="A prompt template's slug or id.")
    label = StrictCharField(required=False, allow_null=True, max_length=100,
                            help_text="The template's label to use (default: latest).")
    version = StrictIntegerField(required=False, allow_null=True, min_value=1,
                                 help_text="The template's version number (instead of a label).")
    variables = StrictMapField(child=StrictCharField(allow_blank=True), required=False,
                               allow_null=True, max_items=100,
                               help_text="Template variables, name → text.")
    generator = StrictCharField(required=False, allow_null=True, max_length=100,
                                help_text="A generator id (default: the prompt version's).")
    parameters = StrictMapField(child=StrictScalarField(allow_null=True), required=False,
                                allow_null=True, max_items=50,
                                help_text="Generator parameters, name → value (see "
                                          "/generators/ for each generator's schema).")
    model = StrictCharField(required=False, allow_null=True, max_length=200,
                            help_text="A registered model's name (default: the project's).")
    parent_asset = serializers.UUIDField(required=False, allow_null=True,
                                         help_text="An image asset of this project, for "
                                                   "image-to-image generators.")

    revision_of = serializers.UUIDField(required=False, allow_null=True,
                                        help_text="An asset of this project to regenerate "
                                                  "as its new version (it goes to review "
                                                  "and supersedes the old version's).")
    style = StrictCharField(required=False, allow_null=True, max_length=60,
                            help_text="A brand style's name (see /projects/{slug}/brand-"
                                      "styles/), for image prompts: its prompt additions, "
                                      "negative prompt, size and steps apply under the "
                                      "parameters sent, and its reference image becomes "
                                      "the parent asset. Recorded as parameters.style.")

    def validate_parent_asset(self, value: Any) -> Any:
        """UUIDField also takes integers; an asset id is text."""
        raw = self.initial_data.get("parent_asset")
        if raw is not None and not isinstance(raw, str):
            raise serializers.ValidationError("Send the asset id as text (a UUID).")
        return value

    def validate_revision_of(self, value: Any) -> Any:
        """An asset id is text, as for ``parent_asset``."""
        raw = self.initial_data.get("revision_of")
        if raw is not None and not isinstance(raw, str):
            raise serializers.ValidationError("Send the asset id as text (a UUID).")
        return value

    def validate_parameters(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """A seed, when sent, is a JSON integer (the generator checks its range)."""
        seed = (value or {}).get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise serializers.ValidationError(
                {"seed": [f"Send the seed as a whole number (a JSON integer), not "
                          f"{type(seed).__name__}."]})
        return value


class CancelInput(InputSerializer):
    """``POST /generations/{id}/cancel/``: an optional reason, kept in the audit log."""

    reason = StrictCharField(required=False, allow_blank=True, max_length=500,
                             help_text="Why, in words (at most 500 characters).")


# --- output --------------------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")

    class Meta:
        model = Project
        fields = ("id", "slug", "name", "description", "team", "created_at")


class PromptVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromptVersion
        fields = ("id", "number", "text", "variables", "modality", "generator_id",
                  "default_parameters", "default_model", "targets", "text_sha256", "note",
                  "created_at")


class PromptTemplateSerializer(serializers.ModelSerializer):
    versions = PromptVersionSerializer(many=True, read_only=True)
    labels = serializers.SerializerMethodField()

    class Meta:
        model = PromptTemplate
        fields = ("id", "slug", "name", "description", "labels", "versions", "created_at")

    def get_labels(self, obj: PromptTemplate) -> dict[str, int]:
        """Label name → version number."""
        return {label.name: label.version.number for label in obj.labels.all()}


class AssetSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug")
    job = serializers.UUIDField(source="job_id", allow_null=True,
                                help_text="The job that made it; null for a revised text.")
    content_url = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = ("id", "project", "job", "index", "kind", "media_type", "text", "byte_size",
                  "sha256", "width", "height", "parent", "content_url", "created_at")

    def get_content_url(self, obj: Asset) -> str:
        """Where to download the exact bytes."""
        return reverse("api:asset-content", kwargs={"pk": obj.pk})


class ModelNameSerializer(serializers.Serializer):
    """Which model made (or will make) a job: never where its files are on the server."""

    name = serializers.CharField(allow_null=True)
    revision = serializers.CharField(allow_null=True)
    license = serializers.CharField(allow_null=True, help_text="Known once the job ran.")


class PromptRefSerializer(serializers.Serializer):
    """The prompt template version a job rendered."""

    version_id = serializers.IntegerField()
    template = serializers.CharField()
    number = serializers.IntegerField()


def _is_path(source: str) -> bool:
    return os.path.isabs(source) or source.startswith(("~", ".")) or "\\" in source


def public_model(ref: dict[str, Any] | None) -> dict[str, Any]:
    """A job's ``model_ref`` without the server path: name, revision and licence (a hub
    id stands in for the name of an unnamed model; a local folder never does)."""
    ref = ref or {}
    source = str(ref.get("source") or "")
    name = ref.get("name") or (source if source and not _is_path(source) else None)
    return {"name": name, "revision": ref.get("revision"),
            "license": ref.get("licence") or ref.get("license")}


class JobSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug")
    requested_by = serializers.CharField(source="requested_by.username")
    model_ref = serializers.SerializerMethodField()
    prompt = serializers.SerializerMethodField()
    assets = serializers.SerializerMethodField()

    class Meta:
        model = GenerationJob
        fields = ("id", "project", "status", "progress", "cancel_requested", "error",
                  "attempts", "generator_id", "generator_version", "model_ref", "parameters",
                  "seed", "variables", "rendered_prompt", "prompt", "queue", "requested_by",
                  "queued_at", "started_at", "finished_at", "usage", "assets")

    @extend_schema_field(ModelNameSerializer)
    def get_model_ref(self, obj: GenerationJob) -> dict[str, Any]:
        """The model by name and revision; the stored source may be a server folder."""
        return public_model(obj.model_ref)

    @extend_schema_field(PromptRefSerializer)
    def get_prompt(self, obj: GenerationJob) -> dict[str, Any]:
        """Which template version made this job."""
        version = obj.prompt_version
        return {"version_id": version.pk, "template": version.template.slug,
                "number": version.number}

    @extend_schema_field(AssetSerializer(many=True))
    def get_assets(self, obj: GenerationJob) -> list[dict[str, Any]]:
        """The job's outputs (empty until it succeeds)."""
        return AssetSerializer(obj.assets.all(), many=True, context=self.context).data


class ParamSerializer(serializers.Serializer):
    """One generator parameter's schema (assay.plugins.contracts.Param.describe)."""

    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["int", "float", "str", "bool"])
    help = serializers.CharField(allow_blank=True)
    default = serializers.JSONField(required=False, allow_null=True)
    minimum = serializers.FloatField(required=False)
    maximum = serializers.FloatField(required=False)
    max_length = serializers.IntegerField(required=False)
    choices = serializers.ListField(child=serializers.JSONField(), required=False)
    only_with_inputs = serializers.BooleanField(required=False)
    label = serializers.CharField(help_text="What people call it (the portal's label).")
    plain = serializers.BooleanField(
        help_text="An everyday control shown first; others are advanced settings.")


class GeneratorSerializer(serializers.Serializer):
    """An installed generator and the parameters it takes."""

    id = serializers.CharField()
    modality = serializers.CharField()
    version = serializers.CharField()
    queue = serializers.CharField()
    needs_gpu = serializers.BooleanField()
    plugin = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    parameters = ParamSerializer(many=True)


class PluginStatusSerializer(serializers.Serializer):
    """How one discovered plugin fared at load time."""

    name = serializers.CharField()
    module = serializers.CharField()
    distribution = serializers.CharField(allow_blank=True)
    version = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=["ok", "failed", "incompatible"])
    error = serializers.CharField(allow_blank=True)
    hooks = serializers.ListField(child=serializers.CharField())
    generators = serializers.ListField(child=serializers.CharField())
    checks = serializers.ListField(child=serializers.CharField())


# --- the asset library (filters: governance.provenance.library.AssetFilter) -------------


class LibraryAssetSerializer(AssetSerializer):
    """An asset in the library: with its review state, signature and version facts."""

    review_status = serializers.CharField(
        allow_null=True, help_text="The latest review's status; null: never submitted.")
    signed = serializers.BooleanField(source="is_signed",
                                      help_text="Has Content Credentials (signed copy).")
    created_by = serializers.CharField(source="created_by.username", allow_null=True,
                                       default=None, help_text="Who made this version.")
    is_revision = serializers.BooleanField(
        help_text="A new version of ``parent`` (edited or regenerated as a revision).")
    has_newer = serializers.BooleanField(help_text="A newer version of it exists.")

    class Meta(AssetSerializer.Meta):
        fields = (*AssetSerializer.Meta.fields, "review_status", "signed", "created_by",
                  "is_revision", "has_newer")


class AssetVersionSerializer(serializers.Serializer):
    """One version in an asset's revision chain (governance.provenance.lineage)."""

    id = serializers.UUIDField()
    number = serializers.IntegerField(help_text="1 for the first version.")
    how = serializers.CharField(help_text="How this version was made, in words.")
    kind = serializers.CharField()
    sha256 = serializers.CharField()
    byte_size = serializers.IntegerField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    job = serializers.UUIDField(allow_null=True)
    review_status = serializers.CharField(allow_null=True)
    signed = serializers.BooleanField()
    current = serializers.BooleanField(help_text="The version asked about.")


class ServedFileSerializer(serializers.Serializer):
    """What a download of the asset hands out now."""

    filename = serializers.CharField(help_text="The readable name it downloads under.")
    media_type = serializers.CharField()
    sha256 = serializers.CharField(help_text="SHA-256 of the bytes served (the signed copy "
                                             "once signed, which differs from the asset's).")
    size = serializers.IntegerField(help_text="Bytes served.")
    signed = serializers.BooleanField()
    sidecar_name = serializers.CharField(allow_null=True)


class ApprovalSerializer(serializers.Serializer):
    """One approving decision of the signed version's review."""

    stage = serializers.CharField()
    reviewer = serializers.CharField()
    role = serializers.CharField()
    decided_at = serializers.DateTimeField()
    overrides = serializers.ListField(child=serializers.DictField(
        child=serializers.CharField()))


class AssetCredentialsSerializer(serializers.Serializer):
    """An asset's Content Credentials, read back from its signed file
    (governance.provenance.readback)."""

    signed = serializers.BooleanField()
    state = serializers.ChoiceField(choices=["unsigned", "trusted", "valid", "invalid",
                                             "none"])
    headline = serializers.CharField()
    served = ServedFileSerializer()
    lines = serializers.ListField(child=serializers.CharField())
    signed_at = serializers.CharField(allow_null=True)
    signer = serializers.CharField(allow_null=True)
    model = serializers.DictField(allow_null=True)
    generator = serializers.DictField(allow_null=True)
    prompt = serializers.DictField(allow_null=True)
    approvals = ApprovalSerializer(many=True)
    history = serializers.ListField(child=serializers.DictField())
    manifest_label = serializers.CharField(allow_null=True)
