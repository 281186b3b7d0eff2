"""The editors' review page: one review, and its decision and comment forms.

Same rules as the other portal pages: reads go through ``Review.objects.visible_to`` (an
outsider gets a 404), the forms hand what was typed to ``workflow.decide`` and
``workflow.add_comment`` (the actions the REST API calls), and a refusal is shown in words
with its HTTP status (the service's own text, with field codes, stays in a Details fold).
What the page offers comes from the same action objects: the decision form only when
``Decide(...).refusal()`` is None (else its sentence), the comment form only when
``AddComment(...).refusal()`` is None. Findings are worded by ``assay.portal.findings``;
the queue lives in ``assay.portal.queue_views``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_POST

from assay.core.exceptions import AssayError
from assay.core.numbers import parse_whole
from assay.portal.findings import (
    check_name,
    findings,
    highlight,
    region_style,
    severity_word,
    status_word,
)
from assay.portal.templatetags.media_words import clock
from assay.portal.versions import text_diff
from assay.portal.views import _role_context
from governance.review import workflow
from governance.review.choices import DecisionKind, ReviewStatus
from governance.review.models import Review
from governance.review.policy import AddComment, Decide, blockers, facts_for, results_for

#: Form inputs named ``override_<check id>`` carry the reason to approve past that check.
OVERRIDE_PREFIX = "override_"
#: The comment form's image-region inputs, in the order of [x, y, width, height].
REGION_FIELDS = ("region_x", "region_y", "region_w", "region_h")
#: The comment form's time inputs for audio and video, in seconds (or m:ss).
TIME_FIELDS = ("time_start", "time_end")
_DECIDED = {DecisionKind.APPROVE: "approved", DecisionKind.REJECT: "rejected",
            DecisionKind.REQUEST_CHANGES: "asked for changes"}
_STATE_WORDS = {"passed": "Passed", "current": "In progress", "waiting": "Waiting",
                "not reached": "Not reached"}
_NEWER = {ReviewStatus.IN_REVIEW: "is in review", ReviewStatus.APPROVED: "was approved",
          ReviewStatus.REJECTED: "was rejected",
          ReviewStatus.CHANGES_REQUESTED: "was sent back for changes",
          ReviewStatus.SUPERSEDED: "was replaced too"}


# -- page context --------------------------------------------------------------------------
def _due(review: Review) -> datetime | None:
    stage = review.current_stage
    if stage is None:
        return None
    return review.stage_started_at + timedelta(hours=float(stage.get("due_hours", 48)))


def _stage_label(review: Review, index: int) -> str:
    """"stage 2 (Legal)" — how the decision message names a stage."""
    return f"stage {index + 1} ({capfirst(review.stages[index].get('name', ''))})"


def _stages(review: Review) -> list[dict[str, Any]]:
    """Each stage with its state in words and who decided what at it."""
    decisions = list(review.decisions.select_related("reviewer"))
    rows = []
    for index, stage in enumerate(review.stages):
        if index < review.stage_index or review.status == ReviewStatus.APPROVED:
            state = "passed"
        elif index == review.stage_index:
            state = ("current" if review.status == ReviewStatus.IN_REVIEW
                     else review.get_status_display().lower())
        elif review.status == ReviewStatus.IN_REVIEW:
            state = "waiting"
        else:
            state = "not reached"
        made = [{"decision": d, "verb": _DECIDED.get(d.decision, d.get_decision_display()),
                 "overrides": [{"name": check_name(str(o.get("check_id", ""))),
                                "check_id": o.get("check_id", ""), "reason": o.get("reason", "")}
                               for o in d.overrides if isinstance(o, dict)]}
                for d in decisions if d.stage_index == index]
        rows.append({"index": index + 1, "stage": stage, "name": capfirst(stage.get("name", "")),
                     "state": state, "state_word": _STATE_WORDS.get(state, capfirst(state)),
                     "decisions": made})
    return rows


def _comments(review: Review) -> list[dict[str, Any]]:
    """Comments with their quoted passage or their numbered box on the image."""
    asset = review.asset
    text = asset.text if asset.kind == "text" else ""
    rows, boxes = [], 0
    for c in review.comments.select_related("author"):
        style = region_style(c.region, asset.width, asset.height) if c.region else ""
        boxes += bool(style)
        rows.append({"comment": c, "box": boxes if style else None, "region_style": style,
                     "quote": text[c.span_start:c.span_end] if c.span_start is not None else "",
                     "at": clock(c.time_start) if c.time_start is not None else "",
                     "until": clock(c.time_end) if c.time_end is not None else ""})
    return rows


def _names(check_ids: Any) -> str:
    names = [f"\u201c{check_name(str(c))}\u201d" for c in check_ids]
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _error_context(exc: AssayError | None) -> dict[str, Any]:
    """The refusal in words for the page; the service's text and field codes for Details.

    The service speaks to REST clients too ("overrides: {check id: reason}"); an editor
    reads which check needs a reason, by its name.
    """
    if exc is None:
        return {}
    errors = exc.errors or {}
    missing = [k.removeprefix("overrides.") for k, v in errors.items()
               if k.startswith("overrides.") and "a reason is required" in v]
    blocked = errors.get("checks") if isinstance(errors.get("checks"), list) else []
    if missing:
        message = (f"Write a reason for approving past {_names(missing)}; the reason is kept "
                   "in the audit trail.")
    elif blocked:
        message = (f"Approval is blocked: {_names(blocked)} failed too seriously to approve "
                   "past. Reject it or request changes; a fixed version starts a new review.")
    elif errors.get("region") == ["out of range"]:
        message = ("Mark an area inside the image: its left and top edges within the image, "
                   "and a width and height of at least one pixel that do not run past it.")
    elif errors.get("span") == ["out of range"]:
        message = ("Choose a passage inside the text: “from” must be smaller than “to”, and "
                   "both within the text.")
    else:
        message = exc.message
    return {"message": message, "raw": exc.message, "errors": errors,
            "details": [(k, "; ".join(str(m) for m in v) if isinstance(v, list) else str(v))
                        for k, v in errors.items()]}


def _newer(request: HttpRequest, review: Review) -> dict[str, Any] | None:
    """For a superseded review: the newest version of the asset and its latest review."""
    if review.status != ReviewStatus.SUPERSEDED:
        return None
    newest = review.asset.newest_version()
    if newest.pk == review.asset_id:
        return None
    latest = (Review.objects.visible_to(request.user).filter(asset=newest)
              .order_by("-submitted_at", "-pk").first())
    return {"asset": newest, "review": latest,
            "state": _NEWER.get(latest.status, "exists") if latest else ""}


def _compare(asset: Any) -> dict[str, Any] | None:
    """This version beside the one it revises (``portal/_compare.html``'s context)."""
    if not asset.is_revision or asset.parent is None:
        return None
    old = asset.parent
    both_text = old.kind == "text" and asset.kind == "text"
    return {"old": old, "new": asset, "diff": text_diff(old.text, asset.text) if both_text
            else []}


def _review_page(request: HttpRequest, review: Review, *, status: int = 200,
                 decision_error: AssayError | None = None,
                 comment_error: AssayError | None = None) -> HttpResponse:
    asset = review.asset
    blocking, overridable = blockers(review)
    results = results_for(review)
    facts = facts_for(request.user, review)  # one load for both questions below
    cannot_decide = Decide(request.user, review).refusal(facts)
    cannot_comment = AddComment(request.user, review).refusal(facts)
    text = asset.text if asset.kind == "text" else ""
    found = findings(results, text, asset.width, asset.height)
    typed = request.POST if request.method == "POST" else {}
    d_err = _error_context(decision_error)
    overrides = [{"result": r, "name": f"{OVERRIDE_PREFIX}{r.check_id}",
                  "check_name": check_name(r.check_id), "status_word": status_word(r.status),
                  "value": typed.get(f"{OVERRIDE_PREFIX}{r.check_id}", ""),
                  "errors": d_err.get("errors", {}).get(f"overrides.{r.check_id}", [])}
                 for r in overridable]
    blocking_ids = {r.check_id for r in blocking}
    overridable_ids = {r.check_id for r in overridable}
    checks = [{"result": r, "name": check_name(r.check_id), "status_word": status_word(r.status),
               "severity_word": severity_word(r.severity),
               "approval": ("blocks" if r.check_id in blocking_ids
                            else "reason" if r.check_id in overridable_ids else "")}
              for r in results]
    comments = _comments(review)
    return render(request, "portal/review.html", {
        **_role_context(request, review.project),
        "review": review, "asset": asset, "checks": checks,
        "blocking": blocking, "blocking_names": _names(r.check_id for r in blocking),
        "findings": found, "highlighted": highlight(text, found) if text else "",
        "region_findings": [f for f in found if f.region_style],
        "claims": [f for f in found if "verdict" in f.raw],
        "stages": _stages(review), "comments": comments,
        "region_comments": [c for c in comments if c["box"]], "due": _due(review),
        "stage_label": (_stage_label(review, review.stage_index) if review.current_stage
                        else ""),
        "can_decide": cannot_decide is None,
        "cannot_decide": cannot_decide.message if cannot_decide else "",
        "overrides": overrides,
        "decision_error": d_err, "comment_error": _error_context(comment_error),
        "typed": typed, "region_fields": REGION_FIELDS, "time_fields": TIME_FIELDS,
        "can_comment": cannot_comment is None,
        "newer": _newer(request, review), "compare": _compare(asset),
    }, status=status)


def _review(request: HttpRequest, review_id: int) -> Review:
    return get_object_or_404(
        Review.objects.visible_to(request.user).select_related(
            "project", "asset", "asset__created_by", "asset__parent",
            "asset__parent__created_by", "generated_by", "submitted_by"), pk=review_id)


def decided_message(review: Review, *, stage_before: int) -> str:
    """What the reviewer reads after deciding: what happened and what comes next."""
    if review.status == ReviewStatus.APPROVED:
        return "Approved. The asset is being signed; the signed file is what gets downloaded."
    if review.status == ReviewStatus.REJECTED:
        return ("Rejected. The creator is told your reason; this exact content cannot be "
                "sent for review again.")
    if review.status == ReviewStatus.CHANGES_REQUESTED:
        return ("Changes requested. The creator is told what to change and can send a new "
                "version.")
    stage = review.current_stage
    if stage is None:
        return "Your decision is recorded."
    if review.stage_index != stage_before:
        return (f"Your approval is recorded; it now waits for "
                f"{_stage_label(review, review.stage_index)}.")
    given = review.decisions.filter(stage_index=review.stage_index,
                                    decision=DecisionKind.APPROVE).count()
    more = max(1, int(stage.get("approvals_required", 1)) - given)
    return (f"Your approval is recorded; {_stage_label(review, review.stage_index)} still "
            f"needs {more} more approval{'s' if more != 1 else ''}.")


# -- pages ---------------------------------------------------------------------------------
@login_required
@require_GET
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    """One review: the asset with its findings, the checks, the stages, the forms."""
    return _review_page(request, _review(request, review_id))


@login_required
@require_POST
def review_decide(request: HttpRequest, review_id: int) -> HttpResponse:
    """Approve, reject or request changes through ``workflow.decide``.

    Blank override inputs mean "no reason given" and are left out; reasons go with an
    approval only (they are what lets an approval past a warning).
    """
    review = _review(request, review_id)
    stage_before = review.stage_index
    decision = request.POST.get("decision", "")
    overrides = {key.removeprefix(OVERRIDE_PREFIX): value
                 for key, value in request.POST.items()
                 if key.startswith(OVERRIDE_PREFIX) and value.strip()
                 } if decision == DecisionKind.APPROVE else {}
    try:
        review = workflow.decide(request.user, review, decision=decision,
                                 content_sha256=request.POST.get("content_sha256", ""),
                                 comment=request.POST.get("comment", ""), overrides=overrides)
    except AssayError as exc:
        return _review_page(request, review, status=exc.status_code, decision_error=exc)
    messages.success(request, decided_message(review, stage_before=stage_before))
    return redirect("portal:review", review_id=review.pk)


def _number_or_text(value: str) -> int | str:
    """Whole numbers become ints; anything else goes to the service as typed (it refuses)."""
    number = parse_whole(value)  # never "²" or 5,000 digits
    return number if number is not None else value.strip()


def _anchor(request: HttpRequest, names: tuple[str, ...]) -> list[Any] | None:
    """The typed numbers of a span or region, or None when every input was left blank."""
    values = [request.POST.get(name, "") for name in names]
    return [_number_or_text(v) for v in values] if any(v.strip() for v in values) else None


def _seconds(value: str) -> float | str | None:
    """A typed time: blank → None; "12.5" or "1:05" (m:ss) → seconds; else the text as
    typed, which the service refuses in words."""
    text = value.strip()
    if not text or len(text) > 20:
        return text or None
    try:
        parts = [float(p) for p in text.split(":")] if ":" in text else [float(text)]
    except ValueError:
        return text
    if len(parts) > 3 or any(p < 0 for p in parts[:-1]) or len(parts) > 1 and parts[-1] >= 60:
        return text
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


@login_required
@require_POST
def review_comment(request: HttpRequest, review_id: int) -> HttpResponse:
    """Add a comment through ``workflow.add_comment``, on a text span, an image region or
    a time of an audio or video asset."""
    review = _review(request, review_id)
    try:
        workflow.add_comment(request.user, review, body=request.POST.get("body", ""),
                             span=_anchor(request, ("span_start", "span_end")),
                             region=_anchor(request, REGION_FIELDS),
                             time_start=_seconds(request.POST.get("time_start", "")),
                             time_end=_seconds(request.POST.get("time_end", "")))
    except AssayError as exc:
        return _review_page(request, review, status=exc.status_code, comment_error=exc)
    messages.success(request, "Comment added.")
    return redirect(reverse("portal:review", kwargs={"review_id": review.pk}) + "#comments")
