"""Whose work a quota limits and what it counts."""

from django.db import models


class QuotaScope(models.TextChoices):
    """Whose work a quota limits."""

    TEAM = "team", "Team"
    PROJECT = "project", "Project"
    USER = "user", "User"


class Metric(models.TextChoices):
    """What a quota counts per calendar month (UTC)."""

    JOBS = "jobs", "jobs"
    IMAGES = "images", "images"
    TOKENS = "tokens", "tokens"
    ACCELERATOR_SECONDS = "accelerator_seconds", "accelerator-seconds"
