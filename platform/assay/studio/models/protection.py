"""Protected label names and a template's golden set of sample variables.

A protected label (``production``, say) moves only through a promotion review: an owner
protects the name for one template or for every template of the project. The golden set
is the list of variable sets a promotion generates the candidate and the current version
for, so reviewers compare outputs and check results side by side.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ("GoldenSet", "ProtectedLabel")


class ProtectedLabel(models.Model):
    """A label name that moves only through an approved promotion.

    ``template`` empty: the name is protected on every template of ``project``.
    """

    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE,
                                related_name="protected_labels")
    template = models.ForeignKey("studio.PromptTemplate", on_delete=models.CASCADE,
                                 null=True, blank=True, related_name="protected_labels")
    name = models.SlugField(max_length=40)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "pk")
        constraints = [
            models.UniqueConstraint(fields=("project", "template", "name"),
                                    name="protected_label_per_template"),
            models.UniqueConstraint(fields=("project", "name"),
                                    condition=models.Q(template__isnull=True),
                                    name="protected_label_per_project"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (protected)"


class GoldenSet(models.Model):
    """The sample variable sets a template's promotions are tried on."""

    template = models.OneToOneField("studio.PromptTemplate", on_delete=models.CASCADE,
                                    related_name="golden_set")
    #: [{"product": "Kite", "audience": "parents"}, ...]
    samples = models.JSONField(default=list)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"golden set of {self.template_id}"

    @property
    def project_id(self) -> int:
        """Lets audit events find the project."""
        return self.template.project_id
