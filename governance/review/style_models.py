"""Brand styles: named looks an owner defines in the brand kit for generated images.

A style adds words to the prompt, says what to leave out, sets a default size and number of
refinement steps, and may start every image from a reference image (an approved image of
the project) through image-to-image. ``governance.review.styles`` checks and writes them,
and resolves one into a submission; the job records the style's name in its parameters.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from assay.studio.querysets import ProjectScopedQuerySet

__all__ = ("BrandStyle",)


class BrandStyle(models.Model):
    """One named style of a project's brand kit (the name is unique in the project,
    whatever its case)."""

    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE,
                                related_name="brand_styles")
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    #: Words added after the rendered prompt, e.g. "watercolour, soft morning light".
    prompt_additions = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    #: None: the generator's (or the prompt version's) own default.
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    steps = models.PositiveIntegerField(null=True, blank=True)
    #: An approved image of the project every styled image starts from (image-to-image).
    reference = models.ForeignKey("studio.Asset", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    #: How much of the reference image is repainted (only with a reference).
    strength = models.FloatField(default=0.6)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("name", "pk")
        constraints = [models.UniqueConstraint(Lower("name"), "project",
                                               name="one_brand_style_name_per_project")]

    def __str__(self) -> str:
        return f"Brand style “{self.name}”"
