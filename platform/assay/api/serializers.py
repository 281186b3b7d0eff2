"""Read serializers: shape rows for JSON. Input is validated by the services."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from assay.generation.models import GenerationJob
from assay.studio.models import Asset, Project, PromptTemplate, PromptVersion


class ProjectSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")

    class Meta:
        model = Project
        fields = ("id", "slug", "name", "description", "team", "created_at")


class PromptVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromptVersion
        fields = ("id", "number", "text", "variables", "modality", "generator_id",
                  "default_parameters", "targets", "text_sha256", "note", "created_at")


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
    job = serializers.UUIDField(source="job_id")
    content_url = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = ("id", "project", "job", "index", "kind", "media_type", "text", "byte_size",
                  "sha256", "width", "height", "parent", "content_url", "created_at")

    def get_content_url(self, obj: Asset) -> str:
        """Where to download the exact bytes."""
        return reverse("api:asset-content", kwargs={"pk": obj.pk})


class JobSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug")
    requested_by = serializers.CharField(source="requested_by.username")
    prompt = serializers.SerializerMethodField()
    assets = serializers.SerializerMethodField()

    class Meta:
        model = GenerationJob
        fields = ("id", "project", "status", "progress", "cancel_requested", "error",
                  "attempts", "generator_id", "generator_version", "model_ref", "parameters",
                  "seed", "variables", "rendered_prompt", "prompt", "queue", "requested_by",
                  "queued_at", "started_at", "finished_at", "usage", "assets")

    def get_prompt(self, obj: GenerationJob) -> dict[str, Any]:
        """Which template version made this job."""
        version = obj.prompt_version
        return {"version_id": version.pk, "template": version.template.slug,
                "number": version.number}

    def get_assets(self, obj: GenerationJob) -> list[dict[str, Any]]:
        """The job's outputs (empty until it succeeds)."""
        return AssetSerializer(obj.assets.all(), many=True, context=self.context).data
