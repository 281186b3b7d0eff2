"""The approval workflow: submit, decide under the policy, comment, revise.

Rules enforced here, for every caller (portal, REST, commands):
- nobody decides on an asset they generated or submitted;
- one person approves at most one stage of an asset version;
- a failed check whose severity the policy blocks on cannot be approved past, and any
  other failed or warning check needs a written override reason;
- each decision is pinned to the content hash the reviewer saw; a new version of the
  asset supersedes the open review and starts again;
- the review row is locked while deciding, so two reviewers acting at once produce
  exactly one state change.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from assay.accounts.choices import Capability
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import Conflict, InvalidInput, NotPermitted
from assay.plugins.manager import get_plugins
from assay.studio.models import Asset
from assay.studio.services.projects import require_capability, role_in
from governance.review.brand import policy_for
from governance.review.choices import DecisionKind, ReviewStatus
from governance.review.models import CheckResult, Comment, Decision, Review
from governance.review.signals import announce_approval


def open_review(asset: Asset, *, submitted_by: Any) -> Review:
    """Start reviewing this asset version (or return its open review)."""
    with transaction.atomic():
        existing = Review.objects.select_for_update().filter(
            asset=asset, status=ReviewStatus.IN_REVIEW).first()
        if existing is not None:
            return existing
        policy = policy_for(asset.project)
        review = Review.objects.create(
            asset=asset, project=asset.project, content_sha256=asset.sha256,
            stages=policy.stages, blocking_severities=policy.blocking_severities,
            stage_started_at=timezone.now(), submitted_by=submitted_by,
            generated_by_id=asset.created_by_id)
        record("review.asset.submitted", target=asset,
               actor=actor_for(submitted_by) if submitted_by else None,
               data={"review": review.pk, "sha256": asset.sha256,
                     "stages": [s["name"] for s in review.stages]})
    return review


def submit_for_review(user: Any, asset: Asset) -> Review:
    """A creator submits an asset whose checks have finished."""
    require_capability(user, asset.project, Capability.GENERATE, doing="submit for review")
    checked = CheckResult.objects.filter(asset=asset, content_sha256=asset.sha256).exists()
    if not checked and any(asset.kind in c.modalities for c in get_plugins().checks.values()):
        raise Conflict("The checks on this asset have not finished yet; try again shortly.")
    if asset.reviews.filter(status=ReviewStatus.APPROVED).exists():
        raise Conflict("This asset version is already approved.")
    return open_review(asset, submitted_by=user)


def blockers(review: Review) -> tuple[list[CheckResult], list[CheckResult]]:
    """(blocking failures, results that need an override) for the reviewed version."""
    results = CheckResult.objects.filter(asset_id=review.asset_id,
                                         content_sha256=review.content_sha256)
    blocking = [r for r in results if r.status == "fail"
                and r.severity in review.blocking_severities]
    overridable = [r for r in results if r.status in ("fail", "warn") and r not in blocking]
    return blocking, overridable


def decide(user: Any, review: Review, *, decision: str, content_sha256: str,
           comment: str = "", overrides: dict[str, str] | None = None) -> Review:
    """Record a reviewer's decision at the current stage and move the review on.

    Raises:
        NotPermitted: self-review, a second stage by the same person, a role the stage
            does not allow, or a blocking check failure.
        InvalidInput: an unknown decision, or a warning approved without a reason.
        Conflict: the review is not open, or the content changed since the reviewer saw it.
    """
    if decision not in DecisionKind.values:
        raise InvalidInput(f"Unknown decision {decision!r}; use approve, reject or "
                           "request_changes.", errors={"decision": ["unknown"]})
    require_capability(user, review.project, Capability.REVIEW, doing="decide on assets")
    # Overrides only mean something when approving past a warning; ignore them otherwise.
    overrides = ({str(k): str(v).strip() for k, v in (overrides or {}).items()}
                 if decision == DecisionKind.APPROVE else {})
    try:
        with transaction.atomic():
            locked = Review.objects.select_for_update().select_related(
                "asset", "project").get(pk=review.pk)
            _guard(user, locked, decision, content_sha256, comment, overrides)
            stage = locked.current_stage or {}
            role = role_in(user, locked.project) or "admin"
            applied = [{"check_id": k, "reason": v} for k, v in overrides.items()]
            made = Decision.objects.create(
                review=locked, stage_index=locked.stage_index, stage_name=stage["name"],
                reviewer=user, reviewer_role=role, decision=decision, comment=comment[:5000],
                content_sha256=content_sha256, overrides=applied)
            actor = actor_for(user)
            verb = {"approve": "approved", "reject": "rejected",
                    "request_changes": "changes_requested"}[decision]
            record(f"review.decision.{verb}", target=made, actor=actor, reason=comment, data={
                "review": locked.pk, "stage": stage["name"], "sha256": content_sha256,
                "role": role})
            for item in applied:
                record("review.check.overridden", target=made, actor=actor,
                       reason=item["reason"], data={"check": item["check_id"]})
            _advance(locked, decision, actor, comment)
    except IntegrityError:
        raise Conflict("You already decided at this stage.") from None
    review.refresh_from_db()
    return review


def _guard(user: Any, review: Review, decision: str, content_sha256: str, comment: str,
           overrides: dict[str, str]) -> None:
    if review.status != ReviewStatus.IN_REVIEW:
        raise Conflict(f"This review is {review.get_status_display().lower()}; nothing is "
                       "left to decide.", errors={"status": [review.status]})
    if content_sha256 != review.content_sha256:
        raise Conflict("The asset's content changed since you saw it (its SHA-256 differs); "
                       "reload it and decide on what is there now.",
                       errors={"content_sha256": ["does not match the version under review"]})
    if user.pk in (review.generated_by_id, review.submitted_by_id):
        raise NotPermitted("You generated or submitted this asset; another reviewer must "
                           "decide on it.", errors={"reviewer": ["self-review"]})
    stage = review.current_stage
    role = role_in(user, review.project)
    if role not in stage["roles"] and not getattr(user, "is_platform_admin", False):
        raise NotPermitted(f"Stage '{stage['name']}' is decided by "
                           f"{' or '.join(stage['roles'])}; your role is {role}.",
                           errors={"reviewer": ["role not allowed at this stage"]})
    if Decision.objects.filter(review=review, reviewer=user,
                               decision=DecisionKind.APPROVE).exclude(
                                   stage_index=review.stage_index).exists():
        raise NotPermitted("You approved an earlier stage of this asset; a different person "
                           "must approve this one.", errors={"reviewer": ["second stage"]})
    if decision in (DecisionKind.REJECT, DecisionKind.REQUEST_CHANGES) and not comment.strip():
        raise InvalidInput("Say why, so the creator knows what to change.",
                           errors={"comment": ["required when rejecting or requesting "
                                               "changes"]})
    if decision != DecisionKind.APPROVE:
        return
    blocking, overridable = blockers(review)
    if blocking:
        names = ", ".join(f"{r.check_id} ({r.severity})" for r in blocking)
        raise NotPermitted(f"Blocking check failures stop approval: {names}. Fix the asset "
                           "and generate a new version.",
                           errors={"checks": [r.check_id for r in blocking]})
    missing = [r.check_id for r in overridable if not overrides.get(r.check_id)]
    if missing:
        raise InvalidInput(f"Approving past {', '.join(missing)} needs a written reason for "
                           "each (overrides: {check id: reason}).",
                           errors={f"overrides.{m}": ["a reason is required"] for m in missing})
    unknown = set(overrides) - {r.check_id for r in overridable}
    if unknown:
        raise InvalidInput(f"Nothing to override for {', '.join(sorted(unknown))}.",
                           errors={f"overrides.{u}": ["no such warning"] for u in unknown})


def _advance(review: Review, decision: str, actor: Any, comment: str) -> None:
    now = timezone.now()
    if decision != DecisionKind.APPROVE:
        review.status = (ReviewStatus.REJECTED if decision == DecisionKind.REJECT
                         else ReviewStatus.CHANGES_REQUESTED)
        review.finished_at = now
        review.save(update_fields=["status", "finished_at"])
        transaction.on_commit(lambda: _tell_creator(review, decision, comment))
        return
    stage = review.current_stage
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
        return
    review.status, review.finished_at = ReviewStatus.APPROVED, now
    review.save(update_fields=["status", "finished_at"])
    record("review.asset.approved", target=review.asset, actor=actor,
           data={"review": review.pk, "sha256": review.content_sha256})
    transaction.on_commit(lambda: announce_approval(review))


def _tell_creator(review: Review, decision: str, comment: str) -> None:
    creator = review.generated_by or review.submitted_by
    if creator is None or not creator.email:
        return
    verb = "rejected" if decision == DecisionKind.REJECT else "sent back for changes"
    send_mail(f"[Assay] Your asset was {verb}",
              f"Your {review.asset.kind} asset in {review.project.name} was {verb}.\n\n"
              f"Reason: {comment}\n", None, [creator.email], fail_silently=True)


def add_comment(user: Any, review: Review, *, body: str, span: list[int] | None = None,
                region: list[int] | None = None) -> Comment:
    """A comment anchored to a text span [start, end) or an image region [x, y, w, h]."""
    require_capability(user, review.project, Capability.VIEW, doing="comment")
    role = role_in(user, review.project)
    if role is None and not getattr(user, "is_platform_admin", False):
        raise NotPermitted("Only project members comment on reviews.")
    if not body.strip():
        raise InvalidInput("A comment needs text.", errors={"body": ["required"]})
    asset = review.asset
    start = end = None
    if span is not None:
        length = len(asset.text) if asset.kind == "text" else 0
        if (asset.kind != "text" or not isinstance(span, list) or len(span) != 2
                or not all(isinstance(v, int) for v in span)
                or not 0 <= span[0] < span[1] <= length):
            raise InvalidInput(f"span must be [start, end) within the text (0 to {length}).",
                               errors={"span": ["out of range"]})
        start, end = span
    if region is not None:
        w, h = asset.width or 0, asset.height or 0
        if (asset.kind != "image" or not isinstance(region, list) or len(region) != 4
                or not all(isinstance(v, int) and v >= 0 for v in region)
                or region[0] + region[2] > w or region[1] + region[3] > h
                or region[2] == 0 or region[3] == 0):
            raise InvalidInput(f"region must be [x, y, width, height] inside the {w}×{h} "
                               "image.", errors={"region": ["out of range"]})
    with transaction.atomic():
        comment = Comment.objects.create(review=review, author=user, body=body[:5000],
                                         span_start=start, span_end=end, region=region)
        record("review.comment.added", target=comment, actor=actor_for(user),
               data={"review": review.pk, "span": span, "region": region})
    return comment


def revise_text(user: Any, asset: Asset, *, text: str) -> Asset:
    """Save an edited text as a new asset version; its open review is superseded."""
    require_capability(user, asset.project, Capability.GENERATE, doing="edit assets")
    if asset.kind != "text":
        raise InvalidInput("Only text assets can be edited here.")
    if not text.strip():
        raise InvalidInput("The new text is empty.", errors={"text": ["required"]})
    data = text.encode("utf-8")
    with transaction.atomic():
        new = Asset.objects.create(
            project=asset.project, job=None, index=0, kind="text",
            media_type=asset.media_type, text=text, byte_size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), parent=asset, created_by=user,
            metadata={"edited_by": user.username, "edited_from": str(asset.pk)})
        record("studio.asset.revised", target=new, actor=actor_for(user),
               data={"from": str(asset.pk), "sha256": new.sha256})
        for open_one in Review.objects.select_for_update().filter(
                asset=asset, status=ReviewStatus.IN_REVIEW):
            open_one.status, open_one.finished_at = ReviewStatus.SUPERSEDED, timezone.now()
            open_one.save(update_fields=["status", "finished_at"])
            record("review.asset.superseded", target=asset, actor=actor_for(user),
                   data={"review": open_one.pk, "new_asset": str(new.pk)})
        transaction.on_commit(lambda: _queue_checks([str(new.pk)]))
    return new


def _queue_checks(asset_ids: list[str]) -> None:
    from governance.review.dispatch import queue_checks  # dispatch imports the Celery app

    queue_checks(asset_ids)
