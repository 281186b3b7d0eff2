"""Invitations to join a project, sent by e-mail as a one-time link."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from assay.accounts.choices import ProjectRole

__all__ = ("Invitation",)


class Invitation(models.Model):
    """A one-time, expiring link that gives whoever holds the invited e-mail a role.

    Only the SHA-256 digest of the link's secret is stored, so a database reader cannot
    accept an invitation; accepting stamps ``accepted_at``, which makes the link single use.
    """

    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE,
                                related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=ProjectRole.choices)
    digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"Invitation of {self.email} as {self.role} to {self.project}"

    @property
    def is_open(self) -> bool:
        """Neither used nor expired."""
        return self.accepted_at is None and self.expires_at > timezone.now()
