from django.contrib import admin

from assay.core.admin_mixins import ReadOnlyAdmin
from assay.generation.models import GenerationJob
from assay.studio.models import (
    Asset,
    Membership,
    Project,
    PromptLabel,
    PromptTemplate,
    ProtectedLabel,
)


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "team", "created_at")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("project", "user", "role")


@admin.register(PromptTemplate)
class PromptTemplateAdmin(ReadOnlyAdmin):
    list_display = ("name", "project", "created_at")


@admin.register(PromptLabel)
class PromptLabelAdmin(ReadOnlyAdmin):
    """Read only: labels move through ``move_label`` (protected ones only by promotion);
    the model refuses a save made around it anyway (``assay.studio.guard``)."""

    list_display = ("template", "name", "version", "updated_at")


@admin.register(ProtectedLabel)
class ProtectedLabelAdmin(ReadOnlyAdmin):
    """Read only: owners protect labels through the audited protection service."""

    list_display = ("name", "project", "template", "created_by", "created_at")


@admin.register(GenerationJob)
class GenerationJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "project", "generator_id", "status", "progress", "attempts",
                    "queued_at")
    list_filter = ("status", "generator_id")


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = ("id", "project", "kind", "media_type", "byte_size", "sha256", "created_at")
