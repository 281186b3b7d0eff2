"""The model registry: which weights a generator may load, pinned, and for which projects."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from assay.plugins.contracts import ModelRef


class ModelSource(models.TextChoices):
    """Where the weights come from."""

    LOCAL = "local", "Local folder"
    HUB = "hub", "Model hub id"


class RegisteredModel(models.Model):
    """A model a generator may run, pinned to an exact revision.

    Local folders are pinned by a content hash computed at registration; hub models by a
    commit or tag given at registration (an unpinned hub id is refused). Provenance later
    records this revision, so what made an asset can be named exactly.
    """

    name = models.SlugField(max_length=100, unique=True)
    generator_id = models.CharField(max_length=100, db_index=True)
    source_kind = models.CharField(max_length=10, choices=ModelSource.choices)
    source = models.CharField(max_length=500)
    revision = models.CharField(max_length=100)
    license = models.TextField()
    description = models.TextField(blank=True)
    all_projects = models.BooleanField(default=False)
    projects = models.ManyToManyField("studio.Project", blank=True, related_name="allowed_models")
    is_default = models.BooleanField(
        default=False, help_text="Used when a submission names no model for this generator.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")

    class Meta:
        ordering = ("generator_id", "name")

    def __str__(self) -> str:
        return f"{self.name} ({self.generator_id})"

    def ref(self) -> ModelRef:
        """What the worker loads."""
        return ModelRef(source=self.source, revision=self.revision, name=self.name)
