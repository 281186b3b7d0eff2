"""Usage records (one per succeeded job) and monthly quotas of teams, projects and users."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from assay.studio.querysets import ProjectScopedQuerySet
from governance.usage.choices import Metric, QuotaScope

__all__ = ("Quota", "UsageRecord")


class UsageRecord(models.Model):
    """What one succeeded job consumed, frozen when it finished.

    Written by the worker in the transaction that marks the job succeeded, so a record
    exists exactly when the job succeeded. Team, project, user, generator and model are
    copied so roll-ups need no joins through jobs and do not move when a project does.
    """

    job = models.OneToOneField("generation.GenerationJob", on_delete=models.PROTECT,
                               related_name="usage_record")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="usage_records")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT,
                             related_name="usage_records")
    project = models.ForeignKey("studio.Project", on_delete=models.PROTECT,
                                related_name="usage_records")
    generator_id = models.CharField(max_length=100)
    model_name = models.CharField(max_length=300, blank=True)
    #: The UTC date the job finished: quotas and roll-ups count by this day.
    day = models.DateField()
    jobs = models.PositiveIntegerField(default=1)
    images = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    steps = models.PositiveBigIntegerField(default=0)
    wall_seconds = models.FloatField(default=0.0)
    accelerator_seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-day", "-id")
        indexes = [
            models.Index(fields=("day",)),
            models.Index(fields=("team", "day")),
            models.Index(fields=("project", "day")),
            models.Index(fields=("user", "day")),
        ]

    def __str__(self) -> str:
        return f"usage of job {str(self.job_id)[:8]} on {self.day}"


class Quota(models.Model):
    """A monthly limit of one metric for a team, a project or a user.

    A user quota without a project limits the user everywhere; with a project it limits
    the user's work in that project (what a project owner may set).
    """

    scope = models.CharField(max_length=10, choices=QuotaScope.choices)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="quotas")
    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE, null=True,
                                blank=True, related_name="quotas")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="quotas")
    metric = models.CharField(max_length=24, choices=Metric.choices)
    #: Per calendar month (UTC); 0 refuses every submission the metric applies to.
    limit = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("scope", "id")
        constraints = [
            models.CheckConstraint(
                name="usage_quota_scope_matches_target",
                condition=(
                    Q(scope=QuotaScope.TEAM, team__isnull=False, project__isnull=True,
                      user__isnull=True)
                    | Q(scope=QuotaScope.PROJECT, project__isnull=False, team__isnull=True,
                        user__isnull=True)
                    | Q(scope=QuotaScope.USER, user__isnull=False, team__isnull=True)
                ),
            ),
            models.UniqueConstraint(fields=("team", "metric"), name="usage_quota_one_per_team",
                                    condition=Q(scope=QuotaScope.TEAM)),
            models.UniqueConstraint(fields=("project", "metric"),
                                    name="usage_quota_one_per_project",
                                    condition=Q(scope=QuotaScope.PROJECT)),
            models.UniqueConstraint(fields=("user", "metric"), name="usage_quota_one_per_user",
                                    condition=Q(scope=QuotaScope.USER, project__isnull=True)),
            models.UniqueConstraint(fields=("user", "project", "metric"),
                                    name="usage_quota_one_per_user_in_project",
                                    condition=Q(scope=QuotaScope.USER, project__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.subject}: {self.limit} {Metric(self.metric).label} a month"

    @property
    def subject(self) -> str:
        """Whose quota, in words: "Team 'acme'", "User 'cara' in project 'launch'"."""
        if self.scope == QuotaScope.TEAM:
            return f"Team '{self.team.slug}'"
        if self.scope == QuotaScope.PROJECT:
            return f"Project '{self.project.slug}'"
        where = f" in project '{self.project.slug}'" if self.project_id else ""
        return f"User '{self.user.get_username()}'{where}"
