"""The review queue, a creator's submissions and each user's inbox.

The queue is ``Review.objects.awaiting(user)`` (the review policy's rules) narrowed and
sorted by ``governance.review.filters.ReviewFilter``, the FilterSet that the REST list
uses too, so ``/reviews/?checks=failed&sort=due`` here and ``/api/v1/reviews/?awaiting_me=
true&checks=failed&sort=due`` list the same reviews. Check counts, stage and due time are
annotated in the one query that loads a page (``ReviewQuerySet.with_queue_facts``). The
inbox reads ``governance.review.inbox``, which the REST inbox reads as well.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from assay.studio.choices import Modality
from assay.studio.models import Project
from governance.review import inbox
from governance.review.choices import CheckState, InboxKind, ReviewStatus
from governance.review.filters import DueChoice, ReviewFilter, SortChoice
from governance.review.models import Decision, Review

#: Rows per page of the queue and of my submissions; entries per page of the inbox.
PAGE_SIZE = 25
INBOX_PAGE_SIZE = 50
#: Characters of a text asset shown in a list.
EXCERPT_CHARS = 140

#: A creator's next step for each state of their review: (state in words, what to do).
NEXT_STEP = {
    ReviewStatus.IN_REVIEW: ("In review", "Nothing to do yet: see the review"),
    ReviewStatus.CHANGES_REQUESTED: ("Changes requested", "Revise it"),
    ReviewStatus.REJECTED: ("Rejected", "Make a new version"),
    ReviewStatus.APPROVED: ("Approved", "Download the signed file"),
    ReviewStatus.SUPERSEDED: ("Replaced by a newer version", "See the newest version"),
}


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first words of a text asset, on one line."""
    words = " ".join(text.split())
    if not words:
        return "(empty text)"
    return words if len(words) <= limit else words[:limit - 1].rstrip() + "…"


def _filtered(request: HttpRequest, queryset: QuerySet, *,
              default_sort: str) -> tuple[ReviewFilter, QueryDict, QuerySet]:
    """The request's filters applied by the shared FilterSet; bad values show as errors
    next to the form and list nothing, as the REST list answers 400."""
    params = request.GET.copy()
    if not params.get("sort"):
        params["sort"] = default_sort
    filters = ReviewFilter(params, queryset=queryset, request=request)
    rows = filters.qs if filters.is_valid() else queryset.none()
    return filters, params, rows


def _page(request: HttpRequest, rows: Any, size: int) -> Page:
    return Paginator(rows, size).get_page(request.GET.get("page"))


def _choices(request: HttpRequest) -> dict[str, Any]:
    """The filter form's options: projects and open stages the user can see (two
    queries), and the fixed lists."""
    user = request.user
    stages = (Review.objects.visible_to(user).filter(status=ReviewStatus.IN_REVIEW)
              .with_queue_facts().order_by("stage_name")
              .values_list("stage_name", flat=True).distinct())
    return {
        "projects": list(Project.objects.visible_to(user).order_by("name")
                         .values_list("slug", "name")),
        "stages": [s for s in stages if s],
        "modalities": Modality.choices, "check_states": CheckState.choices,
        "due_choices": DueChoice.choices, "sort_choices": SortChoice.choices,
        "statuses": ReviewStatus.choices,
    }


def _rows(page: Page) -> list[dict[str, Any]]:
    """Each review on the page with its excerpt (text) or thumbnail (image)."""
    return [{"review": r, "asset": r.asset,
             "excerpt": excerpt(r.asset.text) if r.asset.kind == "text" else ""}
            for r in page.object_list]


# -- pages ---------------------------------------------------------------------------------
@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Reviews waiting for my decision, filtered and sorted (due first by default), and
    what was decided lately in my projects."""
    waiting = Review.objects.awaiting(request.user).select_related(
        "project", "asset", "generated_by")
    filters, params, rows = _filtered(request, waiting, default_sort=SortChoice.DUE)
    page = _page(request, rows, PAGE_SIZE)
    decided = []
    for review in Review.objects.visible_to(request.user).recently_decided():
        made = list(review.decisions.all())  # prefetched, oldest first
        decided.append({"review": review, "asset": review.asset,
                        "excerpt": excerpt(review.asset.text) if review.asset.kind == "text"
                        else "", "last": made[-1] if made else None})
    return render(request, "portal/reviews.html", {
        **_choices(request), "filters": filters, "params": params, "page": page,
        "waiting": _rows(page), "decided": decided,
        "filtered": any(params.get(k) for k in ("project", "modality", "checks", "due",
                                                 "stage")),
    })


@login_required
@require_GET
def my_submissions(request: HttpRequest) -> HttpResponse:
    """The reviews of assets I generated or submitted: their state and my next step."""
    mine = (Review.objects.visible_to(request.user).of_creator(request.user)
            .select_related("project", "asset")
            .prefetch_related(Prefetch("decisions", queryset=Decision.objects.select_related(
                "reviewer").order_by("created_at"))))
    filters, params, rows = _filtered(request, mine, default_sort=SortChoice.NEWEST)
    page = _page(request, rows, PAGE_SIZE)
    entries = []
    for row in _rows(page):
        review = row["review"]
        state, step = NEXT_STEP.get(review.status, (review.get_status_display(), ""))
        made = list(review.decisions.all())
        entries.append({**row, "state": state, "step": step,
                        "last": made[-1] if made else None})
    return render(request, "portal/submissions.html", {
        **_choices(request), "filters": filters, "params": params, "page": page,
        "entries": entries,
    })


@login_required
@require_GET
def inbox_page(request: HttpRequest) -> HttpResponse:
    """What changed for me, newest first, unread ones marked."""
    page = _page(request, inbox.feed(request.user), INBOX_PAGE_SIZE)
    seen = inbox.seen_at(request.user)
    entries = inbox.entries(request.user, page.object_list, seen)
    return render(request, "portal/inbox.html", {
        "page": page, "entries": entries, "seen_at": seen,
        "unread": sum(1 for e in entries if e.unread) if page.paginator.num_pages == 1
        else inbox.unread_count(request.user),
        "kinds": InboxKind,
    })


@login_required
@require_POST
def inbox_read(request: HttpRequest) -> HttpResponse:
    """Mark everything read ("mark all read"), then back to the inbox."""
    inbox.mark_read(request.user)
    messages.success(request, "Everything in your inbox is marked read.")
    return redirect("portal:inbox")
