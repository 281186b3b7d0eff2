"""The approval workflow as functions: each one runs an action of the review policy.

Kept for the callers that read best as a verb (the REST API, the portal, the tasks and
the tests); the rules, checks and audit events live in ``governance.review.policy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.studio.models import Asset
from governance.review.models import Comment, Review
from governance.review.policy import (
    AddComment,
    Decide,
    OpenReview,
    ReviseText,
    SubmitForReview,
    blockers,
)

__all__ = ("add_comment", "blockers", "decide", "open_review", "revise_text",
           "submit_for_review")


def open_review(asset: Asset, *, submitted_by: Any = None) -> Review:
    """Start reviewing this asset version (or return its open review)."""
    return OpenReview(asset, submitted_by=submitted_by).execute()


def submit_for_review(user: Any, asset: Asset) -> Review:
    """A creator submits an asset whose checks have finished (409 if already in review)."""
    return SubmitForReview(user, asset).execute()


def decide(user: Any, review: Review, *, decision: str, content_sha256: str,
           comment: str = "", overrides: Mapping[str, str] | None = None) -> Review:
    """Record a reviewer's decision at the current stage and move the review on.

    Raises:
        NotPermitted: self-review, a second stage by the same person, a role the stage
            does not allow, or a blocking check failure.
        InvalidInput: an unknown decision, a warning approved without a reason, or a
            comment over the limit.
        Conflict: the review is not open, the user already decided at this stage, or the
            content changed since the reviewer saw it.
    """
    return Decide(user, review, decision=decision, content_sha256=content_sha256,
                  comment=comment, overrides=overrides).execute()


def add_comment(user: Any, review: Review, *, body: str, span: list[Any] | None = None,
                region: list[Any] | None = None, time_start: Any = None,
                time_end: Any = None) -> Comment:
    """A comment anchored to a text span [start, end), an image region [x, y, w, h], or a
    time in seconds (a moment, or a range) of an audio or video asset."""
    return AddComment(user, review, body=body, span=span, region=region,
                      time_start=time_start, time_end=time_end).execute()


def revise_text(user: Any, asset: Asset, *, text: str) -> Asset:
    """Save an edited text as a new asset version; its open review is superseded."""
    return ReviseText(user, asset, text=text).execute()
