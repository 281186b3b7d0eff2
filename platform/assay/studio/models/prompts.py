"""Prompt templates, their immutable numbered versions and movable labels."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from assay.studio.choices import Modality
from assay.studio.guard import LabelQuerySet, require_open
from assay.studio.querysets import ProjectScopedQuerySet

__all__ = ("PromptLabel", "PromptTemplate", "PromptVersion")


class PromptTemplate(models.Model):
    """A named prompt in a project; its text lives in versions."""

    project = models.ForeignKey(
        "studio.Project", on_delete=models.CASCADE, related_name="prompt_templates"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=("project", "slug"), name="template_slug_per_project"),
        ]

    def __str__(self) -> str:
        return self.name

    def latest_version(self) -> PromptVersion | None:
        """The highest-numbered version."""
        return self.versions.order_by("-number").first()


class PromptVersion(models.Model):
    """One immutable version: text, declared variables, modality and defaults.

    Rows are never updated after creation (``save`` refuses), so a job that names a
    version names exactly the text it rendered, and provenance can hash it later.
    """

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    #: [{"name": "product", "description": "...", "required": true, "default": ""}]
    variables = models.JSONField(default=list)
    modality = models.CharField(max_length=10, choices=Modality.choices, default=Modality.TEXT)
    generator_id = models.CharField(max_length=100)
    default_parameters = models.JSONField(default=dict, blank=True)
    default_model = models.CharField(
        max_length=100, blank=True,
        help_text="The registered model a run uses unless it names another (blank: the "
                  "generator's default). Checked at submission, where the registry lives.")
    #: What the output should meet: {"min_words": 20, "max_words": 80, "max_grade": 9}.
    targets = models.JSONField(default=dict, blank=True)
    text_sha256 = models.CharField(max_length=64)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("template", "number")
        constraints = [
            models.UniqueConstraint(fields=("template", "number"), name="version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Versions are write-once."""
        if self.pk is not None:
            raise ValueError("Prompt versions are immutable; create a new version instead.")
        super().save(*args, **kwargs)

    @property
    def project_id(self) -> int:
        """Lets audit events find the project."""
        return self.template.project_id


class PromptLabel(models.Model):
    """A movable name (e.g. ``production``) pointing at one version of a template."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="labels")
    name = models.SlugField(max_length=40)
    version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, related_name="labels")
    updated_at = models.DateTimeField(auto_now=True)

    #: Bulk writes are guarded like ``save`` (``assay.studio.guard``).
    objects = LabelQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("template", "name"), name="label_per_template"),
        ]

    def __str__(self) -> str:
        return f"{self.template.name}@{self.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Only ``move_label`` writes labels: it sends protected ones through review."""
        require_open()
        super().save(*args, **kwargs)

    save.alters_data = True  # type: ignore[attr-defined]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Removing a label is a move too: refused outside ``move_label``."""
        require_open()
        return super().delete(*args, **kwargs)

    @property
    def project_id(self) -> int:
        """Lets audit events find the project."""
        return self.template.project_id
