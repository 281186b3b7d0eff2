"""Brand kits, check results, review policies, reviews, decisions and comments."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from assay.studio.querysets import ProjectScopedQuerySet
from governance.review.choices import DEFAULT_BLOCKING, DecisionKind, InboxKind, ReviewStatus
from governance.review.querysets import ReviewQuerySet


def _default_blocking() -> list[str]:
    return list(DEFAULT_BLOCKING)


class BrandKit(models.Model):
    """A project's brand rules: voice, banned terms, disclaimers and approved facts."""

    project = models.OneToOneField("studio.Project", on_delete=models.CASCADE,
                                   related_name="brand_kit")
    voice = models.TextField(blank=True)
    #: [{"term": "cheap", "alternatives": ["affordable"]}]
    banned_terms = models.JSONField(default=list, blank=True)
    #: [{"text": "Prices include VAT.", "triggers": ["price"]}]
    disclaimers = models.JSONField(default=list, blank=True)
    min_width = models.PositiveIntegerField(default=256)
    min_height = models.PositiveIntegerField(default=256)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Brand kit of {self.project}"


class ApprovedFact(models.Model):
    """A statement the project may make, with its source and validity window."""

    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE,
                                related_name="approved_facts")
    statement = models.TextField()
    source_url = models.URLField(max_length=500, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.statement[:80]


class CheckResult(models.Model):
    """One check's verdict on one asset version (pinned to its content hash)."""

    asset = models.ForeignKey("studio.Asset", on_delete=models.CASCADE,
                              related_name="check_results")
    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE, related_name="+")
    content_sha256 = models.CharField(max_length=64)
    check_id = models.CharField(max_length=100)
    check_version = models.CharField(max_length=40)
    plugin = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10)
    severity = models.CharField(max_length=10)
    score = models.FloatField(null=True, blank=True)
    summary = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("check_id",)
        constraints = [models.UniqueConstraint(fields=("asset", "content_sha256", "check_id"),
                                               name="one_result_per_check_and_version")]

    def __str__(self) -> str:
        return f"{self.check_id}: {self.status} ({self.severity})"


class ReviewPolicy(models.Model):
    """How a project's assets are approved: ordered stages and what blocks approval.

    ``stages``: [{"name": "brand", "approvals_required": 1, "roles": ["reviewer"],
    "due_hours": 24}, …], decided in order.
    """

    project = models.OneToOneField("studio.Project", on_delete=models.CASCADE,
                                   related_name="review_policy")
    stages = models.JSONField()
    blocking_severities = models.JSONField(default=_default_blocking)
    auto_submit = models.BooleanField(
        default=True, help_text="Submit assets for review as soon as their checks finish.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Review policy of {self.project}"


class Review(models.Model):
    """The review of one asset version; a new version supersedes it and starts again."""

    asset = models.ForeignKey("studio.Asset", on_delete=models.CASCADE, related_name="reviews")
    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE,
                                related_name="reviews")
    content_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=ReviewStatus.choices,
                              default=ReviewStatus.IN_REVIEW, db_index=True)
    #: The policy's stages as they were at submission, so a policy edit cannot change the
    #: rules of a review under way.
    stages = models.JSONField()
    blocking_severities = models.JSONField()
    stage_index = models.PositiveSmallIntegerField(default=0)
    stage_started_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ("-submitted_at",)
        constraints = [models.UniqueConstraint(
            fields=("asset",), condition=models.Q(status="in_review"),
            name="one_open_review_per_asset")]

    def __str__(self) -> str:
        return f"review of {self.asset} ({self.status})"

    @property
    def current_stage(self) -> dict | None:
        """The stage being decided, or None once the review is finished."""
        if self.status != ReviewStatus.IN_REVIEW or self.stage_index >= len(self.stages):
            return None
        return self.stages[self.stage_index]


class Decision(models.Model):
    """A reviewer's decision at one stage, pinned to the content hash they saw."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    stage_index = models.PositiveSmallIntegerField()
    stage_name = models.CharField(max_length=60)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    reviewer_role = models.CharField(max_length=20)
    decision = models.CharField(max_length=20, choices=DecisionKind.choices)
    comment = models.TextField(blank=True)
    content_sha256 = models.CharField(max_length=64)
    #: [{"check_id": "banned-terms", "reason": "…"}]
    overrides = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at",)
        constraints = [models.UniqueConstraint(fields=("review", "stage_index", "reviewer"),
                                               name="one_decision_per_reviewer_and_stage")]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.decision} at {self.stage_name}"

    @property
    def project_id(self) -> int:
        """Lets audit events find the project."""
        return self.review.project_id


class Comment(models.Model):
    """A remark on an asset version, anchored to a text span, an image region, or a time
    position (seconds, or a range) in audio and video."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    body = models.TextField()
    span_start = models.PositiveIntegerField(null=True, blank=True)
    span_end = models.PositiveIntegerField(null=True, blank=True)
    #: [x, y, width, height] in pixels, for images.
    region = models.JSONField(null=True, blank=True)
    #: Seconds into an audio or video asset: a moment (start only) or a range.
    time_start = models.FloatField(null=True, blank=True)
    time_end = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return f"comment by {self.author}"

    @property
    def project_id(self) -> int:
        """Lets audit events find the project."""
        return self.review.project_id


class InboxItem(models.Model):
    """Something that changed for one user: a review now awaits them, or a review of their
    asset was decided. Written by the review policy in the transaction that makes the
    change (governance.review.inbox); read through ``visible_to``, so an entry of a project
    the user has left is never shown. "Due soon" entries are derived from the review
    requests, not stored.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE, related_name="+")
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="inbox_items")
    kind = models.CharField(max_length=20, choices=InboxKind.choices)
    stage_index = models.PositiveSmallIntegerField(default=0)
    stage_name = models.CharField(max_length=60, blank=True)
    #: For review requests: when the stage is due, and from when it counts as due soon.
    due_at = models.DateTimeField(null=True, blank=True)
    due_soon_at = models.DateTimeField(null=True, blank=True)
    #: Who decided (frozen display name) and what they wrote, for decisions.
    actor_name = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("user", "created_at"), name="inbox_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user} (review {self.review_id})"


class InboxSeen(models.Model):
    """When a user last marked their inbox read: entries after it are unread."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="+")
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} read their inbox at {self.seen_at:%Y-%m-%d %H:%M}"


__all__ = ("ApprovedFact", "BrandKit", "CheckResult", "Comment", "Decision", "DecisionKind",
           "InboxItem", "InboxSeen", "Review", "ReviewPolicy", "ReviewStatus")

# Promotion reviews and brand styles live in their own modules; Django finds their models
# through this one.
from governance.review.promotion_models import Promotion, PromotionRun  # noqa: E402, F401
from governance.review.style_models import BrandStyle  # noqa: E402, F401
