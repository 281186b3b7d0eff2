"""Promotion review: the only way a protected prompt label moves.

``RequestPromotion`` pins the candidate version and the version the label holds now, and
submits one real generation job per golden sample and side (``submit_generation``), so
the ordinary worker runs them and the ordinary checks judge their outputs.
``ApprovePromotion`` (someone other than the version's author, once every run finished)
moves the label through ``move_label(..., promotion=...)`` in the same transaction as its
audit event; ``RejectPromotion`` closes the request. REST and the portal call these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from assay.accounts.choices import Capability
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import AssayError, Conflict, InvalidInput, NotFound, NotPermitted
from assay.core.numbers import parse_id
from assay.generation.choices import TERMINAL_STATUSES, JobStatus
from assay.generation.services import submit_generation
from assay.studio.models import Asset, PromptTemplate, PromptVersion
from assay.studio.services.projects import require_capability
from assay.studio.services.prompts import move_label
from assay.studio.services.protection import golden_samples, is_protected
from governance.review.models import CheckResult
from governance.review.policy import check_text
from governance.review.promotion_models import (
    Promotion,
    PromotionRun,
    PromotionStatus,
    RunSide,
)

__all__ = (
    "ApprovePromotion",
    "RejectPromotion",
    "RequestPromotion",
    "SampleRow",
    "SideResult",
    "get_promotion",
    "promotion_rows",
    "promotions_for",
)

COMMENT_CHARS = 1000


def promotions_for(user: Any, template: PromptTemplate | None = None) -> QuerySet[Promotion]:
    """Promotions the user may see (optionally one template's), newest first."""
    rows = Promotion.objects.visible_to(user).select_related(
        "project", "template__project", "version", "current_version", "requested_by",
        "decided_by")
    return rows.filter(template=template) if template is not None else rows


def get_promotion(user: Any, promotion_id: Any, *, template: PromptTemplate | None = None
                  ) -> Promotion:
    """One visible promotion, or NotFound (the same answer for invisible and missing)."""
    pk = parse_id(promotion_id)
    found = promotions_for(user, template).filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound(f"No promotion {promotion_id} in your projects.",
                       errors={"promotion": ["not found"]})
    return found


def _version_of(template: PromptTemplate, ref: Any) -> PromptVersion:
    pk = parse_id(ref)
    found = PromptVersion.objects.filter(template=template, pk=pk).first() if pk else None
    if found is None:
        raise NotFound(f"Template {template.name} has no version {ref}.",
                       errors={"version": ["not found in this template"]})
    return found


class RequestPromotion:
    """Ask for ``version`` to become protected ``label``; start its golden-set run."""

    def __init__(self, user: Any, template: PromptTemplate, *, version: Any, label: Any,
                 note: Any = "") -> None:
        self.user, self.template = user, template
        self.version_ref, self.label, self.note = version, str(label or "").strip(), note

    def check(self) -> tuple[PromptVersion, PromptVersion | None, list[dict[str, str]]]:
        """The candidate, the version the label holds now, and the golden samples."""
        require_capability(self.user, self.template.project, Capability.GENERATE,
                           doing="request prompt promotions")
        check_text(str(self.note or ""), field="note", limit=500, noun="note")
        if not self.label:
            raise InvalidInput("Name the protected label to promote to.",
                               errors={"label": ["this field is required"]})
        if not is_protected(self.template, self.label):
            raise InvalidInput(f"The label {self.label!r} is not protected on this template; "
                               "move it by hand instead.", errors={"label": ["not protected"]})
        version = _version_of(self.template, self.version_ref)
        held = self.template.labels.select_related("version").filter(name=self.label).first()
        current = held.version if held else None
        if current is not None and current.pk == version.pk:
            raise Conflict(f"The label {self.label!r} already points at version "
                           f"{version.number}.", errors={"version": ["already there"]})
        if Promotion.objects.filter(template=self.template, label=self.label,
                                    status=PromotionStatus.OPEN).exists():
            raise Conflict(f"A promotion to {self.label!r} is already waiting for a decision; "
                           "decide on it first.", errors={"label": ["promotion already open"]})
        samples = golden_samples(self.template)
        if not samples:
            raise InvalidInput("This template has no golden set yet: save at least one set "
                               "of sample variables to try the versions on.",
                               errors={"samples": ["save a golden set first"]})
        return version, current, samples

    @transaction.atomic
    def execute(self) -> Promotion:
        """Write the promotion, its runs (real jobs) and the audit event together."""
        version, current, samples = self.check()
        promotion = Promotion.objects.create(
            project_id=self.template.project_id, template=self.template, label=self.label,
            version=version, current_version=current, note=str(self.note or "")[:500],
            requested_by=self.user)
        sides = [(RunSide.CANDIDATE, version)] + ([(RunSide.CURRENT, current)] if current else [])
        for number, variables in enumerate(samples, start=1):
            for side, side_version in sides:
                try:
                    job = submit_generation(self.user, project=self.template.project,
                                            prompt_version=side_version.pk,
                                            variables=variables)
                except InvalidInput as exc:
                    raise InvalidInput(f"Golden sample {number} does not fit version "
                                       f"{side_version.number}: {exc.message}",
                                       errors={f"samples.{number}": [exc.message]}) from exc
                PromotionRun.objects.create(promotion=promotion, side=side, sample=number,
                                            variables=variables, job=job)
        record("review.promotion.requested", target=promotion, actor=actor_for(self.user),
               data={"template": self.template.slug, "label": self.label,
                     "version": version.number,
                     "current": current.number if current else None,
                     "samples": len(samples)})
        return promotion


def _runs_finished(promotion: Promotion) -> bool:
    return not promotion.runs.exclude(job__status__in=TERMINAL_STATUSES).exists()


class _Decision:
    """Shared checks: a reviewer of the project, on an open promotion."""

    doing = "decide on prompt promotions"

    def __init__(self, user: Any, promotion: Promotion, *, comment: Any = "") -> None:
        self.user, self.promotion, self.comment = user, promotion, str(comment or "").strip()

    def refusal(self) -> AssayError | None:
        """Why this user may not decide now (None: they may)."""
        try:
            self.check()
        except AssayError as exc:
            return exc
        return None

    def check(self) -> None:
        """Raises NotPermitted, Conflict or InvalidInput with what to do instead."""
        require_capability(self.user, self.promotion.project_id, Capability.REVIEW,
                           doing=self.doing)
        check_text(self.comment, field="comment", limit=COMMENT_CHARS, noun="comment")
        if self.promotion.status != PromotionStatus.OPEN:
            raise Conflict(f"This promotion was already "
                           f"{self.promotion.get_status_display().lower()}.",
                           errors={"promotion": ["already decided"]})

    def _close(self, status: str) -> Promotion:
        locked = Promotion.objects.select_for_update().get(pk=self.promotion.pk)
        if locked.status != PromotionStatus.OPEN:
            raise Conflict("Someone decided on this promotion a moment ago.",
                           errors={"promotion": ["already decided"]})
        locked.status, locked.decided_by = status, self.user
        locked.decided_at, locked.decision_comment = timezone.now(), self.comment
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
        return locked


class ApprovePromotion(_Decision):
    """Approve and move the label, in one transaction with the audit event."""

    doing = "approve prompt promotions"

    def check(self) -> None:
        """Also: not the version's author, every run finished, the label did not move."""
        super().check()
        promotion = self.promotion
        if promotion.version.created_by_id == self.user.pk:
            raise NotPermitted(
                f"You wrote version {promotion.version.number}, so someone else must "
                "approve its promotion.", errors={"promotion": ["you wrote this version"]})
        if not _runs_finished(promotion):
            raise Conflict("The golden-set run is still generating; approve once every "
                           "sample is done.", errors={"promotion": ["still generating"]})
        held = promotion.template.labels.filter(name=promotion.label).values_list(
            "version_id", flat=True).first()
        if held != promotion.current_version_id:
            raise Conflict(f"The label {promotion.label!r} moved since this promotion was "
                           "requested; reject it and request a new one.",
                           errors={"promotion": ["label moved since"]})

    @transaction.atomic
    def execute(self) -> Promotion:
        """Approved → label moved (guarded path) → applied, with one audit event."""
        self.check()
        promotion = self._close(PromotionStatus.APPROVED)
        move_label(promotion.template, self.user, name=promotion.label,
                   version=promotion.version, promotion=promotion)
        promotion.applied_at = timezone.now()
        promotion.save(update_fields=["applied_at"])
        record("review.promotion.approved", target=promotion, actor=actor_for(self.user),
               reason=self.comment, data={
                   "template": promotion.template.slug, "label": promotion.label,
                   "version": promotion.version.number,
                   "before": promotion.current_version.number
                   if promotion.current_version else None})
        return promotion


class RejectPromotion(_Decision):
    """Close the request without moving the label; a reason is required."""

    doing = "reject prompt promotions"

    def check(self) -> None:
        """Also: a comment that says why."""
        super().check()
        if not self.comment:
            raise InvalidInput("Say why the promotion is rejected, so its author knows what "
                               "to change.", errors={"comment": ["this field is required"]})

    @transaction.atomic
    def execute(self) -> Promotion:
        """Rejected, with the audit event."""
        self.check()
        promotion = self._close(PromotionStatus.REJECTED)
        record("review.promotion.rejected", target=promotion, actor=actor_for(self.user),
               reason=self.comment, data={"template": promotion.template.slug,
                                          "label": promotion.label,
                                          "version": promotion.version.number})
        return promotion


@dataclass
class SideResult:
    """One side of one golden sample: the job, its output and its check results."""

    job_id: str
    status: str
    error: str = ""
    text: str = ""
    asset_id: str | None = None
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """The job is done (any way) and, when it made an output, the checks ran."""
        return self.status in TERMINAL_STATUSES and (
            self.status != JobStatus.SUCCEEDED or bool(self.checks))


@dataclass
class SampleRow:
    """A golden sample with the candidate's and the current version's results."""

    sample: int
    variables: dict[str, str]
    candidate: SideResult | None = None
    current: SideResult | None = None


def _side(run: PromotionRun) -> SideResult:
    job = run.job
    assets: list[Asset] = list(job.assets.all())
    asset = assets[0] if assets else None
    checks = [r for r in asset.check_results.all() if r.content_sha256 == asset.sha256] \
        if asset else []
    return SideResult(job_id=str(job.pk), status=job.status, error=job.error or "",
                      text=(asset.text or "") if asset else "",
                      asset_id=str(asset.pk) if asset else None, checks=checks)


def promotion_rows(promotion: Promotion) -> list[SampleRow]:
    """The golden-set comparison, one row per sample (three queries, however many)."""
    runs = promotion.runs.select_related("job").prefetch_related(Prefetch(
        "job__assets", queryset=Asset.objects.order_by("created_at").prefetch_related(
            "check_results")))
    rows: dict[int, SampleRow] = {}
    for run in runs:
        row = rows.setdefault(run.sample, SampleRow(sample=run.sample,
                                                    variables=dict(run.variables)))
        setattr(row, "candidate" if run.side == RunSide.CANDIDATE else "current", _side(run))
    return [rows[k] for k in sorted(rows)]
