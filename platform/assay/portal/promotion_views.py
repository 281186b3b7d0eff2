"""Governed promotion in the portal: protected labels, golden sets and promotion reviews.

The promotions page lists a project's promotion requests and holds the owners' control
for protected labels, the golden-set editor and the request form; the promotion page is
the review itself: the diff against the version the label holds now, and the golden-set
outputs with their check results side by side, with approve and reject. Every change goes
through the services REST calls (``assay.studio.services.protection``,
``governance.review.promotion``); refusals are shown in their words.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assay.accounts.choices import Capability
from assay.core.exceptions import AssayError, NotFound
from assay.core.numbers import parse_whole
from assay.portal.findings import check_name, status_word
from assay.portal.versions import text_diff
from assay.studio.models import Project, PromptTemplate, PromptVersion
from assay.studio.services.projects import require_capability
from assay.studio.services.protection import (
    GOLDEN_SET_MAX,
    protect_label,
    protections_for,
    save_golden_set,
    unprotect_label,
)
from governance.review.promotion import (
    ApprovePromotion,
    RejectPromotion,
    RequestPromotion,
    SideResult,
    get_promotion,
    promotion_rows,
    promotions_for,
)
from governance.review.promotion_models import Promotion, PromotionStatus

_BADGES = {PromotionStatus.OPEN: "badge-queued", PromotionStatus.APPROVED: "badge-succeeded",
           PromotionStatus.REJECTED: "badge-failed"}


def _project(request: HttpRequest, slug: str) -> Project:
    return get_object_or_404(Project.objects.visible_to(request.user), slug=slug)


def _can(user: Any, project: Project, capability: str) -> bool:
    return Project.objects.visible_to(user, capability).filter(pk=project.pk).exists()


def parse_samples(text: str) -> list[dict[str, str]]:
    """One sample per line, ``name = value`` pairs separated by ``;`` (blank lines skipped).

    A pair without ``=`` is kept with an empty name, so the service refuses it by line.
    """
    samples = []
    for line in text.splitlines():
        if not line.strip():
            continue
        pairs = [part.partition("=") for part in line.split(";") if part.strip()]
        samples.append({name.strip(): value.strip() for name, _, value in pairs})
    return samples


def samples_text(samples: list[dict[str, str]]) -> str:
    """The golden set as the editor shows it (the inverse of :func:`parse_samples`)."""
    return "\n".join("; ".join(f"{k} = {v}" for k, v in s.items()) for s in samples)


def _list_page(request: HttpRequest, project: Project, *, status: int = 200,
               error: AssayError | None = None, form: dict[str, str] | None = None
               ) -> HttpResponse:
    templates = list(PromptTemplate.objects.filter(project=project).select_related(
        "golden_set").order_by("name"))
    versions = PromptVersion.objects.filter(template__project=project).select_related(
        "template").order_by("template__name", "-number")
    protections = list(protections_for(project))
    rows = [{"promotion": p, "badge": _BADGES[p.status]}
            for p in promotions_for(request.user).filter(project=project)[:100]]
    golden = [{"template": t, "count": len(t.golden_set.samples) if hasattr(t, "golden_set")
               else 0, "text": samples_text(t.golden_set.samples)
               if hasattr(t, "golden_set") else ""} for t in templates]
    return render(request, "portal/promotions.html", {
        "project": project, "rows": rows, "protections": protections,
        "templates": templates, "versions": versions, "golden": golden,
        "label_names": sorted({p.name for p in protections}),
        "can_manage": _can(request.user, project, Capability.MANAGE),
        "can_request": _can(request.user, project, Capability.GENERATE),
        "golden_max": GOLDEN_SET_MAX, "error": error, "form": form or {},
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def promotions(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's promotions; a POST requests one (REST: POST .../promotions/)."""
    project = _project(request, slug)
    if request.method == "GET":
        return _list_page(request, project)
    form = {k: request.POST.get(k, "") for k in ("version", "label", "note")}
    try:
        require_capability(request.user, project, Capability.GENERATE,
                           doing="request prompt promotions")
    except AssayError as exc:
        return _list_page(request, project, status=exc.status_code, error=exc, form=form)
    version = PromptVersion.objects.filter(template__project=project,
                                           pk=parse_whole(form["version"]) or 0
                                           ).select_related("template").first()
    try:
        if version is None:
            raise NotFound("Choose the version to promote.",
                           errors={"version": ["choose a version"]})
        promotion = RequestPromotion(request.user, version.template, version=version.pk,
                                     label=form["label"], note=form["note"]).execute()
    except AssayError as exc:
        status = 400 if exc.status_code == 404 else exc.status_code
        return _list_page(request, project, status=status, error=exc, form=form)
    messages.success(request, "Promotion requested: the golden-set run has started.")
    return redirect("portal:promotion", slug=project.slug, promotion_id=promotion.pk)


@login_required
@require_POST
def protected_labels(request: HttpRequest, slug: str) -> HttpResponse:
    """Protect a label name, or lift a protection (owners; REST: .../protected-labels/)."""
    project = _project(request, slug)
    try:
        require_capability(request.user, project, Capability.MANAGE,
                           doing="protect prompt labels")
        if request.POST.get("lift"):
            unprotect_label(project, request.user, protection_id=request.POST["lift"])
            messages.success(request, "Protection lifted: the label moves by hand again.")
        else:
            row = protect_label(project, request.user, name=request.POST.get("name", ""),
                                template=request.POST.get("template") or None)
            messages.success(request, f"“{row.name}” is protected: it now moves only "
                                      "through an approved promotion.")
    except AssayError as exc:
        return _list_page(request, project, status=exc.status_code, error=exc)
    return redirect("portal:promotions", slug=project.slug)


@login_required
@require_POST
def golden_set(request: HttpRequest, slug: str) -> HttpResponse:
    """Replace one template's golden set (REST: PUT /templates/{id}/golden-set/)."""
    project = _project(request, slug)
    try:
        require_capability(request.user, project, Capability.GENERATE,
                           doing="edit a template's golden set")
    except AssayError as exc:
        return _list_page(request, project, status=exc.status_code, error=exc)
    template = PromptTemplate.objects.filter(
        project=project, pk=parse_whole(request.POST.get("template", "")) or 0).first()
    try:
        if template is None:
            raise NotFound("Choose the template whose golden set you are saving.",
                           errors={"template": ["choose a template"]})
        row = save_golden_set(template, request.user,
                              samples=parse_samples(request.POST.get("samples", "")))
    except AssayError as exc:
        status = 400 if exc.status_code == 404 else exc.status_code
        return _list_page(request, project, status=status, error=exc)
    messages.success(request, f"Golden set of {template.name} saved "
                              f"({len(row.samples)} samples).")
    return redirect("portal:promotions", slug=project.slug)


def _side_view(side: SideResult | None) -> dict[str, Any] | None:
    if side is None:
        return None
    counts = {s: sum(1 for c in side.checks if c.status == s) for s in ("pass", "warn", "fail")}
    return {"side": side, "counts": counts,
            "checks": [{"result": c, "name": check_name(c.check_id),
                        "status_word": status_word(c.status)} for c in side.checks]}


def _promotion(request: HttpRequest, slug: str, promotion_id: int) -> Promotion:
    project = _project(request, slug)
    try:
        promotion = get_promotion(request.user, promotion_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if promotion.project_id != project.pk:
        raise Http404("No such promotion in this project.")
    return promotion


def _detail_page(request: HttpRequest, promotion: Promotion, *, status: int = 200,
                 error: AssayError | None = None) -> HttpResponse:
    rows = promotion_rows(promotion)
    samples = [{"row": r, "candidate": _side_view(r.candidate),
                "current": _side_view(r.current)} for r in rows]
    sides = [s for r in rows for s in (r.candidate, r.current) if s is not None]
    old = promotion.current_version.text if promotion.current_version else ""
    approve = ApprovePromotion(request.user, promotion)
    can_decide = promotion.status == PromotionStatus.OPEN and _can(
        request.user, promotion.project, Capability.REVIEW)
    return render(request, "portal/promotion.html", {
        "promotion": promotion, "project": promotion.project,
        "badge": _BADGES[promotion.status], "diff": text_diff(old, promotion.version.text),
        "samples": samples, "ready": all(s.finished for s in sides),
        "can_decide": can_decide,
        "approve_refusal": approve.refusal() if can_decide else None,
        "error": error,
    }, status=status)


@login_required
@require_GET
def promotion(request: HttpRequest, slug: str, promotion_id: int) -> HttpResponse:
    """The promotion review (REST: GET .../promotions/{id}/)."""
    return _detail_page(request, _promotion(request, slug, promotion_id))


@login_required
@require_POST
def promotion_decide(request: HttpRequest, slug: str, promotion_id: int) -> HttpResponse:
    """Approve (the label moves) or reject (REST: .../approve/, .../reject/)."""
    found = _promotion(request, slug, promotion_id)
    decision, comment = request.POST.get("decision", ""), request.POST.get("comment", "")
    action = {"approve": ApprovePromotion, "reject": RejectPromotion}.get(decision)
    try:
        require_capability(request.user, found.project, Capability.REVIEW,
                           doing="decide on prompt promotions")
        if action is None:
            raise NotFound("Choose approve or reject.", errors={"decision": ["choose one"]})
        done = action(request.user, found, comment=comment).execute()
    except AssayError as exc:
        status = 400 if exc.status_code == 404 else exc.status_code
        return _detail_page(request, found, status=status, error=exc)
    if done.status == PromotionStatus.APPROVED:
        messages.success(request, f"Approved: “{done.label}” now points at version "
                                  f"{done.version.number}.")
    else:
        messages.success(request, f"Rejected: “{done.label}” stays where it was.")
    return redirect("portal:promotion", slug=done.project.slug, promotion_id=done.pk)


__all__ = ("golden_set", "parse_samples", "promotion", "promotion_decide",
           "promotions", "protected_labels", "samples_text")
