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


class InboxKind(models.TextChoices):
    """What an inbox entry tells its user (governance.review.inbox)."""

    REVIEW_REQUESTED = "review_requested", "Review requested"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    #: Never stored: derived from a review request still awaiting its reader.
    DUE_SOON = "due_soon", "Due soon"


class CheckState(models.TextChoices):
    """One review's checks in a word, worst first (the queue's filter and column)."""

    FAILED = "failed", "A check failed"
    ATTENTION = "attention", "Needs a look"
    PASSED = "passed", "All checks passed"
    UNCHECKED = "unchecked", "No checks ran"


#: A stage counts as "due soon" this many hours before its due time (queue filter, inbox).
DUE_SOON_HOURS = 24
