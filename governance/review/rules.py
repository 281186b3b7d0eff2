"""Who may decide and who may comment on a review: the rules, written once.

Each rule reads a :class:`ReviewFacts` snapshot (one user and one review as plain data) and
returns the refusal it would raise, in words, or None. The action objects in
``governance.review.policy`` raise the first refusal before they change anything; the
queue (``Review.objects.awaiting``) keeps the reviews for which no rule refuses; the portal
shows the decision form only when none refuses and otherwise prints the same sentence. The
facts are loaded by one queryset method (``ReviewQuerySet.decision_facts``), in bulk for
the queue and for one locked row when deciding, so every caller answers alike.

Nothing here touches the database: the rules are plain functions of the facts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assay.core.exceptions import AssayError, Conflict, InvalidInput, NotPermitted
from assay.core.inputs import echo
from governance.review.choices import DecisionKind, ReviewStatus


@dataclass(frozen=True)
class ReviewFacts:
    """What the rules need to know about one user and one review."""

    user_id: int
    is_admin: bool
    #: The user's role in the review's project (None: not a member).
    role: str | None
    status: str
    stage_index: int
    stages: Sequence[dict[str, Any]]
    generated_by_id: int | None
    submitted_by_id: int | None
    #: (stage index, decision) of every decision this user made on this review.
    decided: tuple[tuple[int, str], ...] = ()

    @property
    def stage(self) -> dict[str, Any] | None:
        """The stage being decided, or None once the review is finished."""
        if self.status != ReviewStatus.IN_REVIEW or self.stage_index >= len(self.stages):
            return None
        return self.stages[self.stage_index]


Rule = Callable[[ReviewFacts], AssayError | None]


def review_is_open(f: ReviewFacts) -> AssayError | None:
    """Only an open review at a known stage can be decided."""
    if f.stage is not None:
        return None
    label = ReviewStatus(f.status).label.lower() if f.status in ReviewStatus.values else f.status
    return Conflict(f"This review is {label}; nothing is left to decide.",
                    errors={"status": [f.status]})


def not_their_own(f: ReviewFacts) -> AssayError | None:
    """Nobody decides on an asset they generated or submitted."""
    if f.user_id in (f.generated_by_id, f.submitted_by_id):
        return NotPermitted("You generated or submitted this asset; another reviewer must "
                            "decide on it.", errors={"reviewer": ["self-review"]})
    return None


def role_decides_stage(f: ReviewFacts) -> AssayError | None:
    """The stage names the roles that decide it; platform admins decide any stage."""
    stage = f.stage or {}
    if f.is_admin or f.role in stage.get("roles", ()):
        return None
    return NotPermitted(f"Stage '{stage.get('name')}' is decided by "
                        f"{' or '.join(stage.get('roles', ()))}; your role is "
                        f"{f.role or 'none'}.",
                        errors={"reviewer": ["role not allowed at this stage"]})


def not_decided_at_this_stage(f: ReviewFacts) -> AssayError | None:
    """One decision per person per stage."""
    if any(index == f.stage_index for index, _ in f.decided):
        return Conflict("You already decided at this stage.",
                        errors={"reviewer": ["already decided"]})
    return None


def one_stage_per_approver(f: ReviewFacts) -> AssayError | None:
    """Whoever approved an earlier stage leaves the later ones to someone else."""
    if any(index != f.stage_index and decision == DecisionKind.APPROVE
           for index, decision in f.decided):
        return NotPermitted("You approved an earlier stage of this asset; a different person "
                            "must decide on this one.", errors={"reviewer": ["second stage"]})
    return None


#: In the order a refusal is reported: state first, then who, then what they did before.
DECIDE_RULES: tuple[Rule, ...] = (review_is_open, not_their_own, role_decides_stage,
                                  not_decided_at_this_stage, one_stage_per_approver)


def is_member(f: ReviewFacts) -> AssayError | None:
    """Project members (and platform admins) comment; auditors and others only read."""
    if f.role is not None or f.is_admin:
        return None
    return NotPermitted("Only project members comment on reviews.",
                        errors={"author": ["not a member of this project"]})


COMMENT_RULES: tuple[Rule, ...] = (is_member,)


def first_refusal(rules: Sequence[Rule], facts: ReviewFacts) -> AssayError | None:
    """The first rule's refusal, or None when every rule allows."""
    for rule in rules:
        refusal = rule(facts)
        if refusal is not None:
            return refusal
    return None


def override_refusal(blocking: Sequence[Any], overridable: Sequence[Any],
                     overrides: dict[str, str]) -> AssayError | None:
    """Who may approve past a check: nobody past a blocking failure; past any other failed
    or warning check, whoever may decide, with a written reason for each.

    ``blocking`` and ``overridable`` are check results (``check_id``, ``severity``).
    """
    if blocking:
        names = ", ".join(f"{r.check_id} ({r.severity})" for r in blocking)
        return NotPermitted(f"Blocking check failures stop approval: {names}. Fix the asset "
                            "and generate a new version.",
                            errors={"checks": [r.check_id for r in blocking]})
    missing = [r.check_id for r in overridable if not overrides.get(r.check_id)]
    if missing:
        return InvalidInput(f"Approving past {', '.join(missing)} needs a written reason for "
                            "each (overrides: {check id: reason}).",
                            errors={f"overrides.{m}": ["a reason is required"]
                                    for m in missing})
    unknown = set(overrides) - {r.check_id for r in overridable}
    if unknown:
        return InvalidInput(f"Nothing to override for {echo(', '.join(sorted(unknown)))}.",
                            errors={f"overrides.{u}": ["no such warning"] for u in unknown})
    return None
