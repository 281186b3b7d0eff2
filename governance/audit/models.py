"""Audit events: append-only rows with frozen display strings.

Display strings (actor, target) are copied at write time, like NetBox's ObjectChange,
so an event still reads correctly after the user or object it names is gone. Hash
chaining and database-level append-only guards come with the audit issue.
"""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One thing that happened, who did it, to what, and under which request."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    actor_kind = models.CharField(max_length=10)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_display = models.CharField(max_length=200)
    actor_user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_display = models.CharField(max_length=300, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    correlation_id = models.CharField(max_length=64, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=("target_type", "target_id"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_display} on {self.target_display}"
