"""Generation jobs: the outbox row a worker claims, runs and finishes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from assay.generation.choices import TERMINAL_STATUSES, JobStatus
from assay.studio.choices import Modality
from assay.studio.querysets import ProjectScopedQuerySet

__all__ = ("GenerationJob",)


class GenerationJob(models.Model):
    """One submitted generation. The row is written before the task is sent, so the
    database, not the broker, is the record of what was asked for (the sweeper re-sends
    rows the broker lost). Status changes go through ``assay.generation.transitions`` only.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("studio.Project", on_delete=models.PROTECT, related_name="jobs")
    prompt_version = models.ForeignKey(
        "studio.PromptVersion", on_delete=models.PROTECT, related_name="jobs"
    )
    variables = models.JSONField(default=dict)
    rendered_prompt = models.TextField()
    modality = models.CharField(max_length=10, choices=Modality.choices)
    generator_id = models.CharField(max_length=100)
    generator_version = models.CharField(max_length=40)
    plugin_name = models.CharField(max_length=100, blank=True)
    model_ref = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict)
    seed = models.BigIntegerField()
    queue = models.CharField(max_length=60)
    #: Jobs with equal keys (generator, model, batch-relevant parameters, mode) can share
    #: one batched model call; see assay.generation.batching.
    batch_key = models.CharField(max_length=64, blank=True)
    parent_asset = models.ForeignKey(
        "studio.Asset", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The init image of an image-to-image job (recorded as the output's parent).",
    )
    revision_of = models.ForeignKey(
        "studio.Asset", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The asset this job regenerates as a new version: its outputs are "
                  "recorded as revisions of it (parent, metadata['revision_of']).",
    )

    status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generation_jobs"
    )
    correlation_id = models.CharField(max_length=64)
    queued_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    usage = models.JSONField(default=dict, blank=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        # The table keeps the name it had when jobs lived in the studio app (migration
        # generation.0002 moved the model without touching the data).
        db_table = "studio_generationjob"
        ordering = ("-queued_at",)
        indexes = [
            models.Index(fields=("status", "last_sent_at")),
            models.Index(fields=("status", "batch_key", "queued_at")),
            # What the autoscaler counts (the assay_queue_depth view, migration 0004): only
            # unfinished jobs, so the index stays as small as the queues themselves.
            models.Index(fields=("queue", "status"), name="job_active_by_queue",
                         condition=models.Q(status__in=("queued", "running"))),
        ]

    def __str__(self) -> str:
        return f"{self.generator_id} job {str(self.id)[:8]}"

    @property
    def is_terminal(self) -> bool:
        """Succeeded, failed or cancelled: nothing more will happen to it."""
        return self.status in TERMINAL_STATUSES
