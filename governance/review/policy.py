"""The review policy's actions: open or submit a review, decide, comment, revise a text.

Each action is an object in Wagtail's shape: ``check()`` raises the refusal, in words
(NotPermitted, Conflict, InvalidInput, NotFound), and ``execute()`` checks again and then
makes the change and writes its audit events in one transaction. The workflow functions,
the REST API, the portal and the Celery tasks all go through these objects; the rules of
*who* may decide or comment are the functions in ``governance.review.rules``, which the
reviewer's queue (``Review.objects.awaiting``) applies too.

Rules enforced here, for every caller:
- nobody decides on an asset they generated or submitted;
- one person approves at most one stage of an asset version;
- a failed check whose severity the policy blocks on cannot be approved past, and any
  other failed or warning check needs a written override reason;
- each decision is pinned to the content hash the reviewer saw; a new version of the
  asset supersedes the open review and starts again;
- a rejection sticks: content rejected once in a project is never reviewed again, only a
  new version (different content) is;
- the review row (or, when opening one, the asset row) is locked while acting, so two
  people acting at once produce exactly one state change and one refusal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from assay.accounts.choices import Capability
from assay.audit.context import actor_for, audit_context
from assay.audit.services import record
from assay.core.exceptions import AssayError, Conflict, InvalidInput, NotPermitted
from assay.core.inputs import text_problem
from assay.plugins.manager import get_plugins
from assay.studio.models import Asset
from assay.studio.services.projects import require_capability, role_in
from governance.review import inbox
from governance.review.brand import policy_for
from governance.review.choices import MAX_COMMENT_CHARS, DecisionKind, ReviewStatus
from governance.review.dispatch import queue_checks
from governance.review.models import CheckResult, Comment, Decision, Review
from governance.review.rules import (
    COMMENT_RULES,
    DECIDE_RULES,
    ReviewFacts,
    first_refusal,
    override_refusal,
)
from governance.review.signals import announce_approval
from governance.review.time_anchor import check_time_anchor, refuse_misplaced_anchor

_VERBS = {DecisionKind.APPROVE: "approved", DecisionKind.REJECT: "rejected",
          DecisionKind.REQUEST_CHANGES: "changes_requested"}


# -- reading -------------------------------------------------------------------------------
def results_for(review: Review) -> list[CheckResult]:
    """The check results of exactly the version under review (not of later versions)."""
    return list(CheckResult.objects.filter(asset_id=review.asset_id,
                                           content_sha256=review.content_sha256))


def blockers(review: Review) -> tuple[list[CheckResult], list[CheckResult]]:
    """(blocking failures, results that need an override reason) for the reviewed version."""
    results = results_for(review)
    blocking = [r for r in results if r.status == "fail"
                and r.severity in review.blocking_severities]
    overridable = [r for r in results if r.status in ("fail", "warn") and r not in blocking]
    return blocking, overridable


def facts_for(user: Any, review: Review) -> ReviewFacts:
    """What the rules read about ``user`` and ``review``, as stored now."""
    facts = Review.objects.filter(pk=review.pk).decision_facts(user).get(review.pk)
    if facts is None:
        raise NotPermitted("Sign in to act on reviews.")
    return facts


def deciders(review: Review) -> list[Any]:
    """The project members who could decide on the review's current stage now (whom it
    awaits): the members with the stage's roles, kept when no decision rule refuses."""
    stage = review.current_stage
    if stage is None:
        return []
    members = get_user_model().objects.filter(
        memberships__project_id=review.project_id, memberships__role__in=stage["roles"],
        is_active=True).order_by("pk")
    return [user for user in members if Decide(user, review).refusal() is None]


def check_text(value: str, *, field: str, limit: int, noun: str) -> None:
    """Refuse text that cannot be stored or is longer than ``limit``: never cut it."""
    problem = text_problem(value)
    if problem:
        raise InvalidInput(problem, errors={field: [problem]})
    if len(value) > limit:
        raise InvalidInput(f"The {noun} is {len(value)} characters long; the limit is {limit}. "
                           "Shorten it and send it again.",
                           errors={field: [f"at most {limit} characters"]})


def rejected_before(project_id: int, sha256: str) -> Review | None:
    """The rejection of this exact content in the project, if it was ever rejected."""
    return (Review.objects.filter(project_id=project_id, content_sha256=sha256,
                                  status=ReviewStatus.REJECTED)
            .order_by("-finished_at", "-pk").first())


def _refuse_rejected(project_id: int, sha256: str) -> None:
    rejected = rejected_before(project_id, sha256)
    if rejected is not None:
        raise Conflict(f"This exact content was rejected (review #{rejected.pk}), and a "
                       "rejection sticks: change it and save it as a new version to have "
                       "that reviewed.", errors={"content_sha256": ["rejected before"]})


# -- opening a review ----------------------------------------------------------------------
class OpenReview:
    """Start reviewing this asset version, or return the review already open on it.

    What the checks do once they finish (auto-submit) and what tests use to open a
    review; a creator's submission is :class:`SubmitForReview`.
    """

    def __init__(self, asset: Asset, *, submitted_by: Any = None) -> None:
        self.asset = asset
        self.submitted_by = submitted_by

    def check(self) -> None:
        """Refuse an approved version and content that was rejected before."""
        if self.asset.reviews.filter(status=ReviewStatus.APPROVED).exists():
            raise Conflict("This asset version is already approved.",
                           errors={"asset": ["already approved"]})
        _refuse_rejected(self.asset.project_id, self.asset.sha256)

    def _open_one(self, review: Review) -> Review:
        """What a second opening of the same version gets: the review already open."""
        return review

    def execute(self) -> Review:
        """Check, then open the review and record ``review.asset.submitted``, atomically."""
        with transaction.atomic():
            # The asset row is the lock: two submissions of one version at once are served
            # one after the other, so the second sees the first's review.
            self.asset = Asset.objects.select_for_update(of=("self",)).select_related(
                "project").get(pk=self.asset.pk)
            self.check()
            existing = Review.objects.filter(asset=self.asset,
                                             status=ReviewStatus.IN_REVIEW).first()
            if existing is not None:
                return self._open_one(existing)
            policy = policy_for(self.asset.project)
            try:
                with transaction.atomic():
                    review = Review.objects.create(
                        asset=self.asset, project=self.asset.project,
                        content_sha256=self.asset.sha256, stages=policy.stages,
                        blocking_severities=policy.blocking_severities,
                        stage_started_at=timezone.now(), submitted_by=self.submitted_by,
                        generated_by_id=self.asset.created_by_id)
            except IntegrityError:  # only without row locks (SQLite): still a refusal
                raise Conflict("This asset version is already in review.",
                               errors={"asset": ["already in review"]}) from None
            record("review.asset.submitted", target=self.asset,
                   actor=actor_for(self.submitted_by) if self.submitted_by else None,
                   data={"review": review.pk, "sha256": self.asset.sha256,
                         "stages": [s["name"] for s in review.stages]})
            inbox.review_requested(review, deciders(review))
            supersede_earlier(self.asset, actor=self.submitted_by)
        return review


def supersede_earlier(asset: Asset, *, actor: Any = None) -> int:
    """A new version's review opened: supersede the open review of the version it revises.

    Call inside the opening transaction. Only a *version* (``Asset.is_revision``: edited
    or regenerated as a revision) supersedes its parent's review, never an image made from
    a starting image. An edit already superseded it when it was saved (``ReviseText``),
    so this finds nothing then. Returns how many reviews were superseded.
    """
    if not asset.is_revision:
        return 0
    done = 0
    for open_one in Review.objects.select_for_update().filter(
            asset_id=asset.parent_id, status=ReviewStatus.IN_REVIEW):
        open_one.status, open_one.finished_at = ReviewStatus.SUPERSEDED, timezone.now()
        open_one.save(update_fields=["status", "finished_at"])
        record("review.asset.superseded", target=open_one.asset,
               actor=actor_for(actor) if actor else None,
               data={"review": open_one.pk, "new_asset": str(asset.pk)})
        done += 1
    return done


class SubmitForReview(OpenReview):
    """A creator submits an asset version whose checks have finished.

    Unlike the automatic opening, a version already in review is refused (409), so two
    submissions at once give one review and one clear refusal.
    """

    def __init__(self, user: Any, asset: Asset) -> None:
        super().__init__(asset, submitted_by=user)

    def check(self) -> None:
        """The generate capability, finished checks, then the opening rules."""
        require_capability(self.submitted_by, self.asset.project, Capability.GENERATE,
                           doing="submit for review")
        checked = CheckResult.objects.filter(asset=self.asset,
                                             content_sha256=self.asset.sha256).exists()
        if not checked and any(self.asset.kind in c.modalities
                               for c in get_plugins().checks.values()):
            raise Conflict("The checks on this asset have not finished yet; try again "
                           "shortly.", errors={"checks": ["not finished"]})
        super().check()

    def _open_one(self, review: Review) -> Review:
        raise Conflict(f"This asset version is already in review (review #{review.pk}).",
                       errors={"asset": ["already in review"]})


# -- deciding ------------------------------------------------------------------------------
class Decide:
    """A reviewer's decision at the current stage: approve, reject or request changes.

    ``refusal()`` answers only "may this user decide on this review now" (what the portal
    asks to show the form); ``check()`` adds what was sent: the decision, the content hash
    seen, the comment and the override reasons.
    """

    def __init__(self, user: Any, review: Review, *, decision: str = DecisionKind.APPROVE,
                 content_sha256: str = "", comment: str = "",
                 overrides: Mapping[str, str] | None = None) -> None:
        self.user = user
        self.review = review
        self.decision = decision
        self.content_sha256 = content_sha256
        self.comment = comment
        # Overrides only mean something when approving past a warning; ignored otherwise.
        self.overrides = ({str(k): str(v).strip() for k, v in (overrides or {}).items()}
                          if decision == DecisionKind.APPROVE else {})

    def refusal(self, facts: ReviewFacts | None = None) -> AssayError | None:
        """Why this user may not decide on this review now, or None."""
        return first_refusal(DECIDE_RULES, facts or facts_for(self.user, self.review))

    def check(self) -> None:
        """Raise the first refusal: decision, visibility, who, content seen, reasons."""
        if self.decision not in DecisionKind.values:
            raise InvalidInput(f"Unknown decision {self.decision[:40]!r}; use approve, reject "
                               "or request_changes.", errors={"decision": ["unknown"]})
        require_capability(self.user, self.review.project, Capability.VIEW,
                           doing="see this review")
        refusal = self.refusal()
        if refusal is not None:
            raise refusal
        if self.content_sha256 != self.review.content_sha256:
            raise Conflict("The asset's content changed since you saw it (its SHA-256 "
                           "differs); reload it and decide on what is there now.",
                           errors={"content_sha256": ["does not match the version under "
                                                      "review"]})
        check_text(self.comment, field="comment", limit=MAX_COMMENT_CHARS, noun="comment")
        for check_id, reason in self.overrides.items():
            check_text(reason, field=f"overrides.{check_id[:100]}", limit=MAX_COMMENT_CHARS,
                       noun="override reason")
        if self.decision != DecisionKind.APPROVE and not self.comment.strip():
            raise InvalidInput("Say why, so the creator knows what to change.",
                               errors={"comment": ["required when rejecting or requesting "
                                                   "changes"]})
        if self.decision == DecisionKind.APPROVE:
            refusal = override_refusal(*blockers(self.review), self.overrides)
            if refusal is not None:
                raise refusal

    def execute(self) -> Review:
        """Lock the review, check, record the decision and move the review on."""
        original = self.review
        try:
            with audit_context() as ctx, transaction.atomic():
                self.review = Review.objects.select_for_update(of=("self",)).select_related(
                    "asset", "project").get(pk=original.pk)
                self.check()
                self._record(ctx.correlation_id)
        except IntegrityError:  # the unique constraint, should two requests slip through
            raise Conflict("You already decided at this stage.") from None
        original.refresh_from_db()
        return original

    def _record(self, correlation_id: str) -> None:
        review, stage = self.review, self.review.current_stage or {}
        role = role_in(self.user, review.project) or "admin"
        applied = [{"check_id": k, "reason": v} for k, v in self.overrides.items()]
        made = Decision.objects.create(
            review=review, stage_index=review.stage_index, stage_name=stage["name"],
            reviewer=self.user, reviewer_role=role, decision=self.decision,
            comment=self.comment, content_sha256=self.content_sha256, overrides=applied)
        actor = actor_for(self.user)
        record(f"review.decision.{_VERBS[self.decision]}", target=made, actor=actor,
               reason=self.comment, data={"review": review.pk, "stage": stage["name"],
                                          "sha256": self.content_sha256, "role": role})
        for item in applied:
            record("review.check.overridden", target=made, actor=actor,
                   reason=item["reason"], data={"check": item["check_id"]})
        self._advance(actor, correlation_id)

    def _advance(self, actor: Any, correlation_id: str) -> None:
        review, now = self.review, timezone.now()
        if self.decision != DecisionKind.APPROVE:
            review.status = (ReviewStatus.REJECTED if self.decision == DecisionKind.REJECT
                             else ReviewStatus.CHANGES_REQUESTED)
            review.finished_at = now
            review.save(update_fields=["status", "finished_at"])
            inbox.review_decided(review, self.decision, actor=self.user, note=self.comment)
            transaction.on_commit(partial(_tell_creator, review, self.decision, self.comment))
            return
        stage = review.current_stage or {}
        approvals = review.decisions.filter(stage_index=review.stage_index,
                                            decision=DecisionKind.APPROVE).count()
        if approvals < stage["approvals_required"]:
            return
        if review.stage_index + 1 < len(review.stages):
            review.stage_index += 1
            review.stage_started_at, review.reminded_at, review.escalated_at = now, None, None
            review.save(update_fields=["stage_index", "stage_started_at", "reminded_at",
                                       "escalated_at"])
            record("review.stage.advanced", target=review.asset, actor=actor, data={
                "review": review.pk, "passed": stage["name"],
                "next": review.stages[review.stage_index]["name"]})
            inbox.review_requested(review, deciders(review))
            return
        review.status, review.finished_at = ReviewStatus.APPROVED, now
        review.save(update_fields=["status", "finished_at"])
        record("review.asset.approved", target=review.asset, actor=actor,
               data={"review": review.pk, "sha256": review.content_sha256})
        inbox.review_decided(review, self.decision, actor=self.user, note=self.comment)
        # The one approval event, once committed, with this approval's correlation id.
        transaction.on_commit(partial(announce_approval, review, correlation_id=correlation_id))
        transaction.on_commit(partial(_tell_creator, review, self.decision, self.comment))


def _tell_creator(review: Review, decision: str, comment: str) -> None:
    creator = review.generated_by or review.submitted_by
    if creator is None or not creator.email:
        return
    verb = {DecisionKind.REJECT: "rejected", DecisionKind.APPROVE: "approved"}.get(
        decision, "sent back for changes")
    reason = (f"Reason: {comment}\n" if comment.strip()
              else "It will be signed with its Content Credentials.\n"
              if decision == DecisionKind.APPROVE else "")
    send_mail(f"[Assay] Your asset was {verb}",
              f"Your {review.asset.kind} asset in {review.project.name} was {verb}.\n\n"
              f"{reason}", None, [creator.email], fail_silently=True)


# -- commenting ----------------------------------------------------------------------------
def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class AddComment:
    """A comment anchored to a text span [start, end), an image region [x, y, w, h], or a
    time in audio and video (seconds: a moment, or a range with an end)."""

    def __init__(self, user: Any, review: Review, *, body: str = "",
                 span: list[Any] | None = None, region: list[Any] | None = None,
                 time_start: Any = None, time_end: Any = None) -> None:
        self.user = user
        self.review = review
        self.body = body
        self.span = span
        self.region = region
        self.time_start = time_start
        self.time_end = time_end

    def refusal(self, facts: ReviewFacts | None = None) -> AssayError | None:
        """Why this user may not comment on this review, or None."""
        return first_refusal(COMMENT_RULES, facts or facts_for(self.user, self.review))

    def check(self) -> None:
        """Visibility, membership, then the text and the anchor."""
        require_capability(self.user, self.review.project, Capability.VIEW, doing="comment")
        refusal = self.refusal()
        if refusal is not None:
            raise refusal
        if not isinstance(self.body, str) or not self.body.strip():
            raise InvalidInput("A comment needs text.", errors={"body": ["required"]})
        check_text(self.body, field="body", limit=MAX_COMMENT_CHARS, noun="comment")
        asset = self.review.asset
        span, region = self.span, self.region
        refuse_misplaced_anchor(asset, span=span, region=region)
        self.time_start, self.time_end = check_time_anchor(asset, self.time_start,
                                                           self.time_end)
        if span is not None:
            length = len(asset.text) if asset.kind == "text" else 0
            if (asset.kind != "text" or not isinstance(span, list) or len(span) != 2
                    or not all(_whole(v) for v in span)
                    or not 0 <= span[0] < span[1] <= length):
                raise InvalidInput(f"span must be [start, end) within the text (0 to "
                                   f"{length}).", errors={"span": ["out of range"]})
        if region is not None:
            w, h = asset.width or 0, asset.height or 0
            if (asset.kind != "image" or not isinstance(region, list) or len(region) != 4
                    or not all(_whole(v) and v >= 0 for v in region)
                    or region[0] + region[2] > w or region[1] + region[3] > h
                    or region[2] == 0 or region[3] == 0):
                raise InvalidInput(f"region must be [x, y, width, height] inside the {w}×{h} "
                                   "image.", errors={"region": ["out of range"]})

    def execute(self) -> Comment:
        """Check, then store the comment and record ``review.comment.added``."""
        self.check()
        start, end = self.span if self.span is not None else (None, None)
        with transaction.atomic():
            comment = Comment.objects.create(review=self.review, author=self.user,
                                             body=self.body, span_start=start, span_end=end,
                                             region=self.region, time_start=self.time_start,
                                             time_end=self.time_end)
            record("review.comment.added", target=comment, actor=actor_for(self.user),
                   data={"review": self.review.pk, "span": self.span, "region": self.region,
                         "time": [self.time_start, self.time_end]
                         if self.time_start is not None else None})
        return comment


# -- revising ------------------------------------------------------------------------------
class ReviseText:
    """Save an edited text as a new asset version; its open review is superseded and the
    new version's checks are queued (with this request's correlation id)."""

    def __init__(self, user: Any, asset: Asset, *, text: str) -> None:
        self.user = user
        self.asset = asset
        self.text = text

    @property
    def sha256(self) -> str:
        """The content hash the new version will have."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def check(self) -> None:
        """The generate capability, a text asset, a text that fits and was not rejected."""
        require_capability(self.user, self.asset.project, Capability.GENERATE,
                           doing="edit assets")
        if self.asset.kind != "text":
            raise InvalidInput("Only text assets can be edited here.",
                               errors={"asset": ["not a text asset"]})
        if not isinstance(self.text, str) or not self.text.strip():
            raise InvalidInput("The new text is empty.", errors={"text": ["required"]})
        check_text(self.text, field="text", limit=settings.ASSAY_MAX_TEXT_CHARS, noun="text")
        _refuse_rejected(self.asset.project_id, self.sha256)

    def execute(self) -> Asset:
        """Check, then store the version, supersede the open review, queue the checks."""
        self.check()
        data = self.text.encode("utf-8")
        user, asset = self.user, self.asset
        with audit_context() as ctx, transaction.atomic():
            new = Asset.objects.create(
                project=asset.project, job=None, index=0, kind="text",
                media_type=asset.media_type, text=self.text, byte_size=len(data),
                sha256=self.sha256, parent=asset, created_by=user,
                metadata={"edited_by": user.username, "edited_from": str(asset.pk)})
            record("studio.asset.revised", target=new, actor=actor_for(user),
                   data={"from": str(asset.pk), "sha256": new.sha256})
            for open_one in Review.objects.select_for_update().filter(
                    asset=asset, status=ReviewStatus.IN_REVIEW):
                open_one.status, open_one.finished_at = ReviewStatus.SUPERSEDED, timezone.now()
                open_one.save(update_fields=["status", "finished_at"])
                record("review.asset.superseded", target=asset, actor=actor_for(user),
                       data={"review": open_one.pk, "new_asset": str(new.pk)})
            transaction.on_commit(partial(queue_checks, [str(new.pk)],
                                          correlation_id=ctx.correlation_id))
        return new
