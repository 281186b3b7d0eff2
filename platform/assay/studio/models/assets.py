"""Assets: stored outputs, addressed by their content hash."""

from __future__ import annotations

import uuid

from django.db import models

from assay.studio.choices import Modality
from assay.studio.querysets import ProjectScopedQuerySet

__all__ = ("REVISION_KEYS", "Asset")

#: Metadata keys that make an asset a new *version* of its parent (a person edited it, or
#: it was regenerated as a revision), as opposed to a new asset made from a starting image.
REVISION_KEYS = ("edited_from", "revision_of")
#: Versions followed at most (a guard against a cycle written by hand in the database).
MAX_VERSIONS = 200


def asset_upload_to(instance: Asset, filename: str) -> str:
    """Files are stored by project and content hash, never under user-chosen names."""
    return f"assets/{instance.project_id}/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class Asset(models.Model):
    """One output of a job: text inline, binary media as a file, with its SHA-256.

    The hash is over the exact bytes stored (UTF-8 for text); later review decisions and
    signatures are pinned to it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("studio.Project", on_delete=models.PROTECT, related_name="assets")
    job = models.ForeignKey(
        "generation.GenerationJob", on_delete=models.PROTECT, related_name="assets", null=True
    )
    index = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Modality.choices)
    media_type = models.CharField(max_length=100)
    text = models.TextField(blank=True)
    file = models.FileField(upload_to=asset_upload_to, blank=True, max_length=300)
    byte_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Who made this version: the job's requester, or the editor of a revision.")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="derivatives"
    )
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "index")
        constraints = [
            models.UniqueConstraint(fields=("job", "index"), name="one_asset_per_job_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} asset {self.sha256[:12]}"

    @property
    def is_revision(self) -> bool:
        """True when this is a new version of its parent rather than a derived asset."""
        return self.parent_id is not None and any(k in (self.metadata or {})
                                                  for k in REVISION_KEYS)

    def newest_version(self) -> Asset:
        """The latest revision made from this asset (itself when there is none).

        Superseded reviews and job pages link here, so nobody approves or downloads an old
        version by mistake. One query per version step; version chains are short.
        """
        current = self
        for _ in range(MAX_VERSIONS):
            newer = (Asset.objects.filter(parent=current)
                     .filter(models.Q(metadata__has_key=REVISION_KEYS[0])
                             | models.Q(metadata__has_key=REVISION_KEYS[1]))
                     .order_by("-created_at").first())
            if newer is None:
                return current
            current = newer
        return current

    def read_bytes(self) -> bytes:
        """The exact stored bytes (what the hash covers)."""
        if self.file:
            with self.file.open("rb") as handle:
                return handle.read()
        return self.text.encode("utf-8")
