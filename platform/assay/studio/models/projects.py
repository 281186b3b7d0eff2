"""Projects and per-project memberships."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from assay.accounts.choices import ProjectRole
from assay.studio.querysets import ProjectQuerySet

__all__ = ("Membership", "Project")


class Project(models.Model):
    """A team's workspace: its members, prompt templates, jobs and assets."""

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one project (one role per user and project)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=ProjectRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("project", "user"), name="one_role_per_project"),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.project}"
