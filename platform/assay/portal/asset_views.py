"""The asset library and the asset page: every asset of the user's projects, one asset's
versions, checks, reviews, settings and Content Credentials, its download and revising.

Views hold no rules. The library's rows and filters are ``governance.provenance.library``
(the same FilterSet serves ``GET /api/v1/assets/``); versions come from
``governance.provenance.lineage``, the credentials panel and the download from
``governance.provenance.readback``, and an edit goes through ``workflow.revise_text`` (the
REST twin's service). Reads are scoped with ``visible_to``: an outsider gets a 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError

from assay.accounts.choices import Capability
from assay.core.exceptions import AssayError
from assay.generation.models import GenerationJob
from assay.plugins.contracts import SEED
from assay.plugins.manager import get_plugins
from assay.portal.findings import check_name, severity_word, status_word
from assay.portal.forms import version_label
from assay.portal.media_errors import speaks_media_errors
from assay.portal.versions import text_diff
from assay.portal.views import NOISY_DEMOS, _can, _role_context
from assay.studio.choices import Modality
from assay.studio.models import Asset, Project, PromptTemplate
from governance.provenance.library import (
    REVIEW_STATES,
    SORTS,
    AssetFilter,
    attach_origins,
    library,
)
from governance.provenance.lineage import versions
from governance.provenance.readback import attachment, credentials_for, sidecar_attachment
from governance.review import workflow
from governance.review.api import ReviseInput
from governance.review.choices import ReviewStatus
from governance.review.models import CheckResult, Decision, Review

#: Assets on one library page.
PAGE_SIZE = 24
#: Characters of a text shown on its library card.
EXCERPT_CHARS = 240
REVIEW_WORDS = {**dict(REVIEW_STATES), ReviewStatus.SUPERSEDED: "Replaced by a newer version"}


# -- helpers ------------------------------------------------------------------------------
def _is_demo(job: GenerationJob | None) -> bool:
    """Made by a demo model built on this machine (images are noise)."""
    return job is not None and str((job.model_ref or {}).get("name") or "").startswith(
        "assay-demo")


def _query_without_page(request: HttpRequest) -> str:
    return urlencode([(k, v) for k, values in request.GET.lists() if k != "page"
                      for v in values if v != ""])


def _filter_errors(filterset: AssetFilter) -> list[str]:
    """Each refused filter as "Label: what is wrong"."""
    out = []
    for name, errors in filterset.errors.items():
        label = filterset.filters[name].label if name in filterset.filters else name
        out.extend(f"{label}: {error}" for error in errors)
    return out


def _asset(request: HttpRequest, asset_id: Any) -> Asset:
    return get_object_or_404(library(request.user), pk=asset_id)


def _value_words(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _settings(job: GenerationJob) -> list[dict[str, str]]:
    """The settings the job ran with, named as the form names them (``Param.label``)."""
    generator = get_plugins().generator(job.generator_id)
    params = {p.name: p for p in generator.all_parameters()} if generator else {"seed": SEED}
    rows = []
    for name, value in sorted(job.parameters.items(), key=lambda kv: (kv[0] == "seed", kv[0])):
        param = params.get(name)
        label = (param.label if param and param.label
                 else "Seed" if name == "seed" else name.replace("_", " ").capitalize())
        rows.append({"label": label, "value": _value_words(value), "name": name,
                     "raw": value, "help": param.help if param else ""})
    return rows


def _reviews(asset: Asset) -> list[Review]:
    decisions = Prefetch("decisions", queryset=Decision.objects.select_related("reviewer")
                         .order_by("created_at"))
    return list(Review.objects.filter(asset=asset).select_related("submitted_by")
                .prefetch_related(decisions).order_by("-submitted_at", "-pk"))


def _checks(asset: Asset) -> list[dict[str, Any]]:
    return [{"result": r, "name": check_name(r.check_id), "status_word": status_word(r.status),
             "severity_word": severity_word(r.severity)}
            for r in CheckResult.objects.filter(asset=asset, content_sha256=asset.sha256)
            .order_by("check_id")]


# -- the library --------------------------------------------------------------------------
@login_required
@require_GET
def asset_library(request: HttpRequest) -> HttpResponse:
    """Every asset of the user's projects, newest first, filtered, searched, paginated."""
    user = request.user
    filterset = AssetFilter(request.GET, queryset=library(user))
    errors = [] if filterset.is_valid() else _filter_errors(filterset)
    rows = filterset.qs if not errors else Asset.objects.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    assets = attach_origins(list(page.object_list))
    for asset in assets:
        asset.demo = asset.kind in NOISY_DEMOS and _is_demo(asset.origin)
        asset.review_word = REVIEW_WORDS.get(asset.review_status or "none", "")
    projects = list(Project.objects.visible_to(user).order_by("name"))
    templates = list(PromptTemplate.objects.visible_to(user).select_related("project")
                     .order_by("name", "project__name"))
    creators = list(get_user_model().objects.filter(
        pk__in=Asset.objects.visible_to(user).values("created_by")).order_by("username")
        .values_list("username", flat=True))
    chosen = {name: request.GET.get(name, "") for name in AssetFilter.base_filters}
    return render(request, "portal/assets.html", {
        "page": page, "assets": assets, "errors": errors, "chosen": chosen,
        "projects": projects, "templates": templates, "creators": creators,
        "review_states": REVIEW_STATES, "kinds": Modality.choices, "sorts": SORTS,
        "query": _query_without_page(request),
        "filtered": any(chosen.values()), "excerpt_chars": EXCERPT_CHARS,
    }, status=400 if errors else 200)


# -- one asset ----------------------------------------------------------------------------
def _asset_page(request: HttpRequest, asset: Asset, *, status: int = 200,
                revise_error: AssayError | None = None, typed: str | None = None
                ) -> HttpResponse:
    attach_origins([asset])
    job = asset.origin
    chain = versions(asset)
    here = next(i for i, v in enumerate(chain) if v.current)
    previous = chain[here - 1].asset if here else None
    newest = chain[-1] if not chain[-1].current else None
    compare = None
    if previous is not None:
        both_text = previous.kind == "text" and asset.kind == "text"
        compare = {"old": previous, "new": asset,
                   "diff": text_diff(previous.text, asset.text) if both_text else []}
    can_generate = _can(request, asset.project, Capability.GENERATE)
    labels = [lb.name for lb in job.prompt_version.labels.all()] if job else []
    return render(request, "portal/asset.html", {
        **_role_context(request, asset.project),
        "asset": asset, "job": job, "versions": chain, "version": chain[here],
        "compare": compare, "newest": newest,
        "checks": _checks(asset), "reviews": _reviews(asset),
        "credentials": credentials_for(asset),
        "settings": _settings(job) if job else [],
        "version_label": version_label(job.prompt_version, labels) if job else "",
        "demo": asset.kind in NOISY_DEMOS and _is_demo(job),
        "can_generate": can_generate,
        "generate_url": reverse("portal:generate", args=[asset.project.slug]),
        "revise_error": revise_error, "typed": asset.text if typed is None else typed,
        "review_word": REVIEW_WORDS.get(asset.review_status or "none", ""),
        "version_rows": [(v, REVIEW_WORDS.get(v.review_status or "none", "")) for v in chain],
        "newest_word": REVIEW_WORDS.get(newest.review_status or "none", "") if newest else "",
    }, status=status)


@login_required
@require_GET
def asset_detail(request: HttpRequest, asset_id: Any) -> HttpResponse:
    """One asset: content, versions, checks, reviews, settings, credentials, actions."""
    return _asset_page(request, _asset(request, asset_id))


@login_required
@require_GET
@speaks_media_errors
def asset_download(request: HttpRequest, asset_id: Any) -> HttpResponse:
    """The bytes a download hands out (signed once approved), saved under a readable name."""
    asset = get_object_or_404(Asset.objects.visible_to(request.user)
                              .select_related("project"), pk=asset_id)
    response = attachment(asset)
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_GET
@speaks_media_errors
def asset_sidecar(request: HttpRequest, asset_id: Any) -> HttpResponse:
    """A signed text's Content Credentials (.c2pa sidecar), saved beside the text."""
    asset = get_object_or_404(Asset.objects.visible_to(request.user)
                              .select_related("project"), pk=asset_id)
    response = sidecar_attachment(asset)
    if response is None:
        raise Http404("This asset has no Content Credentials file (it is not a signed text).")
    return response


@login_required
@require_POST
def asset_revise(request: HttpRequest, asset_id: Any) -> HttpResponse:
    """Save the edited text as a new version (through ``workflow.revise_text``)."""
    asset = _asset(request, asset_id)
    typed = request.POST.get("text", "")
    try:
        new = workflow.revise_text(request.user, asset,
                                   **ReviseInput.validated({"text": typed}))
    except ValidationError as exc:
        detail = exc.detail.get("text") if isinstance(exc.detail, dict) else exc.detail
        message = " ".join(str(d) for d in (detail or ["The text could not be read."]))
        return _asset_page(request, asset, status=400, typed=typed,
                           revise_error=AssayError(message))
    except AssayError as exc:
        return _asset_page(request, asset, status=exc.status_code,
                           typed=typed, revise_error=exc)
    messages.success(request, "Saved as a new version. Its checks run now, and it goes to "
                              "review when they finish.")
    return redirect("portal:asset", asset_id=new.pk)
