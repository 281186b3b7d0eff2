"""The editors' review screens: the queue, one review, and its decision and comment forms.

Same rules as the other portal pages: reads go through ``Review.objects.visible_to`` (an
outsider gets a 404), the forms hand what was typed to ``workflow.decide`` and
``workflow.add_comment`` (the actions the REST API calls), and a refusal is shown in the
action's own words with its HTTP status. What the page offers comes from the same action
objects: the decision form only when ``Decide(...).refusal()`` is None (else its sentence),
the comment form only when ``AddComment(...).refusal()`` is None, and the queue is
``Review.objects.awaiting(user)``, which applies the same rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from assay.core.exceptions import AssayError
from assay.core.numbers import parse_whole
from assay.portal.views import _role_context
from governance.review import workflow
from governance.review.choices import DecisionKind, ReviewStatus
from governance.review.models import CheckResult, Review
from governance.review.policy import AddComment, Decide, blockers, facts_for, results_for

#: Form inputs named ``override_<check id>`` carry the reason to approve past that check.
OVERRIDE_PREFIX = "override_"
#: Worst first: a span covered by several findings is coloured by the worst of them.
_STATUS_RANK = {"fail": 0, "warn": 1, "pass": 2}


# -- evidence ------------------------------------------------------------------------------
@dataclass
class Finding:
    """One piece of check evidence, numbered so the text marker and the list agree."""

    number: int
    check_id: str
    status: str
    severity: str
    message: str
    span: tuple[int, int] | None = None
    quote: str = ""
    region: tuple[int, int, int, int] | None = None
    region_style: str = ""
    data: list[tuple[str, str, str]] = field(default_factory=list)  # key, text, safe URL
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def source_url(self) -> str:
        """The factuality source as a link target, when it is an http(s) URL."""
        return _safe_url(self.raw.get("source"))

    @property
    def verdict_tone(self) -> str:
        """ok / bad / warn, to colour a factuality verdict whatever its exact wording."""
        verdict = str(self.raw.get("verdict", "")).lower()
        if verdict.startswith(("support", "verified", "consistent", "match")):
            return "ok"
        if verdict.startswith(("contradict", "conflict", "refut", "outdated", "expired")):
            return "bad"
        return "warn"


def _safe_url(value: Any) -> str:
    """Only http(s) links are rendered as links (never javascript: or data:)."""
    text = str(value or "")
    return text if text.startswith(("https://", "http://")) else ""


def _span(value: Any, length: int) -> tuple[int, int] | None:
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) for v in value) and 0 <= value[0] < value[1] <= length):
        return value[0], value[1]
    return None


def _region(value: Any, width: int | None, height: int | None) -> tuple[int, int, int, int] | None:
    if (isinstance(value, (list, tuple)) and len(value) == 4
            and all(isinstance(v, int) and v >= 0 for v in value) and value[2] and value[3]):
        x, y, w, h = value
        if not width or not height or (x + w <= width and y + h <= height):
            return x, y, w, h
    return None


def _findings(results: list[CheckResult], text: str, width: int | None,
              height: int | None) -> list[Finding]:
    """Every evidence item of every result, numbered in reading order (text spans first)."""
    items: list[Finding] = []
    for result in results:
        for ev in result.evidence if isinstance(result.evidence, list) else []:
            if not isinstance(ev, dict):
                continue
            data = ev.get("data") if isinstance(ev.get("data"), dict) else {}
            span = _span(ev.get("span"), len(text))
            region = _region(ev.get("region"), width, height)
            style = ""
            if region and width and height:
                x, y, w, h = region
                style = (f"left:{100 * x / width:.2f}%;top:{100 * y / height:.2f}%;"
                         f"width:{100 * w / width:.2f}%;height:{100 * h / height:.2f}%")
            items.append(Finding(
                number=0, check_id=result.check_id, status=result.status,
                severity=result.severity, message=str(ev.get("message", "")),
                span=span, quote=text[span[0]:span[1]] if span else "",
                region=region, region_style=style, raw=data,
                data=[(str(k), v if isinstance(v, str) else json.dumps(v), _safe_url(v))
                      for k, v in data.items()]))
    items.sort(key=lambda f: (f.span is None, f.span or (0, 0)))
    for number, item in enumerate(items, start=1):
        item.number = number
    return items


def highlight(text: str, findings: list[Finding]) -> SafeString:
    """The text with each finding's span in a <mark> and a numbered link to the finding.

    Overlapping spans are cut at every boundary, so each piece is marked once with all the
    findings that cover it. Every piece of the text is escaped before it is joined; the
    only markup in the result is the fixed tags below.
    """
    spanned = [f for f in findings if f.span]
    bounds = sorted({0, len(text)} | {f.span[0] for f in spanned if f.span}
                    | {f.span[1] for f in spanned if f.span})
    pieces: list[str] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        covering = [f for f in spanned if f.span and f.span[0] <= start and end <= f.span[1]]
        if covering:
            worst = min((f.status for f in covering), key=lambda s: _STATUS_RANK.get(s, 3))
            pieces.append(format_html(
                '<mark class="ev ev-{}" title="{}" data-findings="{}">{}</mark>', worst,
                "; ".join(f"{f.number}. {f.check_id}: {f.message}" for f in covering),
                " ".join(str(f.number) for f in covering), text[start:end]))
        else:
            pieces.append(escape(text[start:end]))
        for f in spanned:
            if f.span and f.span[1] == end:
                pieces.append(format_html(
                    '<sup class="ev-marker"><a href="#finding-{}" id="finding-{}-in-text" '
                    'aria-label="Finding {}">{}</a></sup>', f.number, f.number, f.number,
                    f.number))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece above is escaped


# -- page context --------------------------------------------------------------------------
def _excerpt(review: Review) -> str:
    asset = review.asset
    if asset.kind == "text":
        words = " ".join(asset.text.split())
        return words[:77] + "…" if len(words) > 80 else words or "(empty text)"
    return f"{asset.kind} {asset.sha256[:8]}"


def _due(review: Review) -> datetime | None:
    stage = review.current_stage
    if stage is None:
        return None
    return review.stage_started_at + timedelta(hours=float(stage.get("due_hours", 48)))


def _stages(review: Review) -> list[dict[str, Any]]:
    """Each stage with its state and who decided what at it."""
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
        rows.append({"index": index + 1, "stage": stage, "state": state,
                     "decisions": [d for d in decisions if d.stage_index == index]})
    return rows


def _comments(review: Review) -> list[dict[str, Any]]:
    text = review.asset.text if review.asset.kind == "text" else ""
    return [{"comment": c,
             "quote": text[c.span_start:c.span_end] if c.span_start is not None else ""}
            for c in review.comments.select_related("author")]


def _error_context(exc: AssayError | None) -> dict[str, Any]:
    """The service's sentence and its per-field messages, as the template shows them."""
    if exc is None:
        return {}
    return {"message": exc.message, "errors": exc.errors,
            "other": [(k, v) for k, v in exc.errors.items()
                      if not k.startswith("overrides.") and k not in ("comment", "body")]}


def _review_page(request: HttpRequest, review: Review, *, status: int = 200,
                 decision_error: AssayError | None = None,
                 comment_error: AssayError | None = None) -> HttpResponse:
    asset = review.asset
    results = results_for(review)
    blocking, overridable = blockers(review)
    facts = facts_for(request.user, review)  # one load for both questions below
    cannot_decide = Decide(request.user, review).refusal(facts)
    cannot_comment = AddComment(request.user, review).refusal(facts)
    text = asset.text if asset.kind == "text" else ""
    findings = _findings(results, text, asset.width, asset.height)
    typed = request.POST if request.method == "POST" else {}
    d_err = _error_context(decision_error)
    overrides = [{"result": r, "name": f"{OVERRIDE_PREFIX}{r.check_id}",
                  "value": typed.get(f"{OVERRIDE_PREFIX}{r.check_id}", ""),
                  "errors": d_err.get("errors", {}).get(f"overrides.{r.check_id}", [])}
                 for r in overridable]
    return render(request, "portal/review.html", {
        **_role_context(request, review.project),
        "review": review, "asset": asset, "results": results,
        "blocking": blocking, "blocking_ids": {r.check_id for r in blocking},
        "overridable_ids": {r.check_id for r in overridable},
        "findings": findings, "highlighted": highlight(text, findings) if text else "",
        "claims": [f for f in findings if "verdict" in f.raw],
        "stages": _stages(review), "comments": _comments(review), "due": _due(review),
        "can_decide": cannot_decide is None,
        "cannot_decide": cannot_decide.message if cannot_decide else "",
        "overrides": overrides,
        "decision_error": d_err, "comment_error": _error_context(comment_error),
        "typed": typed, "decision_kinds": DecisionKind,
        "can_comment": cannot_comment is None,
    }, status=status)


def _review(request: HttpRequest, review_id: int) -> Review:
    return get_object_or_404(
        Review.objects.visible_to(request.user).select_related(
            "project", "asset", "generated_by", "submitted_by"), pk=review_id)


# -- pages ---------------------------------------------------------------------------------
@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Reviews waiting for me, and what was decided lately in my projects."""
    waiting = (Review.objects.awaiting(request.user)
               .select_related("project", "asset", "generated_by")
               .order_by("stage_started_at"))
    now = timezone.now()
    rows = []
    for review in waiting:
        due = _due(review)
        rows.append({"review": review, "excerpt": _excerpt(review), "due": due,
                     "overdue": due is not None and due < now})
    decided = []
    for review in Review.objects.visible_to(request.user).recently_decided():
        made = list(review.decisions.all())  # prefetched, oldest first
        decided.append({"review": review, "excerpt": _excerpt(review),
                        "last": made[-1] if made else None})
    return render(request, "portal/reviews.html", {"waiting": rows, "decided": decided})


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
    messages.success(request, f"Decision recorded. The review is now "
                              f"{review.get_status_display().lower()}.")
    return redirect("portal:review", review_id=review.pk)


def _number_or_text(value: str) -> int | str:
    """Whole numbers become ints; anything else goes to the service as typed (it refuses)."""
    number = parse_whole(value)  # never "²" or 5,000 digits
    return number if number is not None else value.strip()


@login_required
@require_POST
def review_comment(request: HttpRequest, review_id: int) -> HttpResponse:
    """Add a comment through ``workflow.add_comment``, anchored to a text span if given."""
    review = _review(request, review_id)
    start, end = request.POST.get("span_start", ""), request.POST.get("span_end", "")
    span: list[Any] | None = ([_number_or_text(start), _number_or_text(end)]
                              if start.strip() or end.strip() else None)
    try:
        workflow.add_comment(request.user, review, body=request.POST.get("body", ""),
                             span=span)
    except AssayError as exc:
        return _review_page(request, review, status=exc.status_code, comment_error=exc)
    messages.success(request, "Comment added.")
    return redirect(reverse("portal:review", kwargs={"review_id": review.pk}) + "#comments")
