"""Promotion reviews: a request to move a protected label, and its golden-set runs.

A promotion pins the candidate version and the version the label held when it was asked
for; its runs are real generation jobs (one per golden sample and side) whose assets go
through the ordinary checks, so the review compares like with like.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from assay.studio.querysets import ProjectScopedQuerySet

__all__ = ("Promotion", "PromotionRun", "PromotionStatus", "RunSide")


class PromotionStatus(models.TextChoices):
    """open → approved (the label moved) | rejected."""

    OPEN = "open", "Waiting for a decision"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class RunSide(models.TextChoices):
    """Which version a golden-set run generated."""

    CANDIDATE = "candidate", "Proposed version"
    CURRENT = "current", "Current version"


class Promotion(models.Model):
    """A request to point protected ``label`` of ``template`` at ``version``."""

    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE,
                                related_name="promotions")
    template = models.ForeignKey("studio.PromptTemplate", on_delete=models.CASCADE,
                                 related_name="promotions")
    label = models.SlugField(max_length=40)
    version = models.ForeignKey("studio.PromptVersion", on_delete=models.PROTECT,
                                related_name="promotions")
    #: What the label pointed at when the promotion was requested (none: a new label).
    current_version = models.ForeignKey("studio.PromptVersion", on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=PromotionStatus.choices,
                              default=PromotionStatus.OPEN)
    note = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decision_comment = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    #: Set in the approving transaction once the label moved; an applied promotion
    #: cannot move the label again.
    applied_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=("template", "label"),
                                    condition=models.Q(status="open"),
                                    name="one_open_promotion_per_label"),
        ]

    def __str__(self) -> str:
        return f"promote {self.template} v{self.version.number} to {self.label}"


class PromotionRun(models.Model):
    """One golden-set generation: a sample's variables on one side of the comparison."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="runs")
    side = models.CharField(max_length=10, choices=RunSide.choices)
    sample = models.PositiveSmallIntegerField()
    variables = models.JSONField(default=dict)
    job = models.ForeignKey("generation.GenerationJob", on_delete=models.PROTECT,
                            related_name="+")

    class Meta:
        ordering = ("sample", "side")
        constraints = [
            models.UniqueConstraint(fields=("promotion", "side", "sample"),
                                    name="one_run_per_sample_and_side"),
        ]

    def __str__(self) -> str:
        return f"{self.promotion_id}: sample {self.sample} ({self.side})"
