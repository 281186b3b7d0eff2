"""Review statuses and decisions, and the policy's defaults and limits."""

from django.db import models


class ReviewStatus(models.TextChoices):
    """in_review → approved | rejected | changes_requested; any → superseded (new version)."""

    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    SUPERSEDED = "superseded", "Superseded by a new version"


class DecisionKind(models.TextChoices):
    """What a reviewer can decide."""

    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"


DEFAULT_STAGES = [{"name": "review", "approvals_required": 1, "roles": ["reviewer", "owner"],
                   "due_hours": 48}]
DEFAULT_BLOCKING = ["high", "critical"]

#: Most stages a review policy may have.
MAX_STAGES = 20
#: Longest comment, decision comment or override reason (characters); longer is refused,
#: never cut.
MAX_COMMENT_CHARS = 5000
