"""Signed copies of approved assets; the original file is never touched."""

from __future__ import annotations

import uuid

from django.db import models

from assay.studio.querysets import ProjectScopedQuerySet


def signed_folder(project_id: int, source_sha256: str) -> str:
    """Where every signed copy of one content (in one project) is stored."""
    return f"provenance/{project_id}/{source_sha256[:2]}/{source_sha256}"


def signed_upload_to(instance: SignedAsset, filename: str) -> str:
    """In the content's folder, named by the signed bytes' hash and the manifest label, so
    two signings never share a name (a text signed twice has the same bytes) and one can
    never overwrite, or clean up, the other's files on storage that overwrites."""
    label = instance.manifest_label.rsplit(":", 1)[-1].replace("-", "")[:12]
    return (f"{signed_folder(instance.project_id, instance.source_sha256)}/"
            f"{instance.signed_sha256[:16]}-{label}-{filename}")


class SignedAsset(models.Model):
    """One signed file: the approved version of an asset, or a signed derivative of it.

    ``source_sha256`` is the hash of the unsigned bytes the manifest is bound to: the
    asset's own hash for the approved version, the transformed bytes' hash for a
    derivative. One row per (asset, source hash) makes signing idempotent.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    asset = models.ForeignKey("studio.Asset", on_delete=models.PROTECT,
                              related_name="signatures")
    project = models.ForeignKey("studio.Project", on_delete=models.PROTECT, related_name="+")
    review = models.ForeignKey("review.Review", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+",
                               help_text="The approval this signature records.")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="derivatives",
        help_text="The signed file this derivative was made from (its parentOf ingredient).")
    transform = models.JSONField(default=dict, blank=True,
                                 help_text="How a derivative was made, e.g. a resize.")
    format = models.CharField(max_length=100, help_text="Media type of the signed file.")
    embedded = models.BooleanField(help_text="False: the manifest is in the sidecar file.")
    source_sha256 = models.CharField(max_length=64)
    signed_sha256 = models.CharField(max_length=64, db_index=True)
    byte_size = models.PositiveBigIntegerField()
    manifest_label = models.CharField(max_length=200)
    certificate_fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the signing certificate (DER).")
    certificate_subject = models.CharField(max_length=300, blank=True)
    signed_at = models.DateTimeField()
    file = models.FileField(upload_to=signed_upload_to, max_length=300)
    sidecar = models.FileField(upload_to=signed_upload_to, max_length=300, blank=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-signed_at",)
        constraints = [models.UniqueConstraint(fields=("asset", "source_sha256"),
                                               name="one_signature_per_asset_version")]

    def __str__(self) -> str:
        return f"signed {self.format} {self.signed_sha256[:12]}"
