"""Audit events: append-only rows with frozen display strings, sealed into a hash chain.

Display strings (actor, target) are copied at write time, like NetBox's ObjectChange,
so an event still reads correctly after the user or object it names is gone.

Writers insert events without chain fields (plain concurrent inserts); one sealer at a
time gives unsealed rows their gap-free ``seq``, ``prev_hash`` and ``hash``
(assay.audit.chain). On PostgreSQL, triggers refuse UPDATE (except that one
sealing update), DELETE and TRUNCATE (migration 0003).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from assay.audit.fields import CanonicalJSONField


class AuditEvent(models.Model):
    """One thing that happened, who did it, to what, and under which request."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=100)
    actor_kind = models.CharField(max_length=10)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_display = models.CharField(max_length=200)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_display = models.CharField(max_length=300, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    correlation_id = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    data = CanonicalJSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    # The chain: set once by the sealer, never by writers.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, null=True, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        indexes = [
            # Each filter of the auditors' API with the id the cursor pages by, so a
            # filtered page is an index range scan whatever the table's size.
            models.Index(fields=("action", "id"), name="audit_action_id_idx"),
            models.Index(fields=("actor_user_id", "id"), name="audit_actor_id_idx"),
            models.Index(fields=("project_id", "id"), name="audit_project_id_idx"),
            models.Index(fields=("target_type", "target_id", "id"), name="audit_target_id_idx"),
            models.Index(fields=("correlation_id", "id"), name="audit_correlation_id_idx"),
            # The sealer's work list stays small however long the log grows.
            models.Index(fields=("id",), condition=Q(seq__isnull=True),
                         name="audit_unsealed_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_display} on {self.target_display}"


class Checkpoint(models.Model):
    """A signed (sequence, head hash, time) also written to a file outside the database.

    A rewrite of the whole table with recomputed hashes yields a consistent chain; it
    cannot also match these signed heads, whose key lives outside the database.
    """

    seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=64)
    file_name = models.CharField(max_length=200)

    class Meta:
        ordering = ("seq", "id")

    def __str__(self) -> str:
        return f"checkpoint at seq {self.seq}"
