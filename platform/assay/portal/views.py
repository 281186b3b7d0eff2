"""Portal pages: look things up through ``visible_to``, call the services, render.

Views hold no business rules. Reads are scoped with the querysets' ``visible_to`` (so a
non-member gets a 404, never a hint that the object exists); every change goes through the
same service the REST API calls, and the service's refusals are shown in its own words.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assay.accounts.choices import Capability
from assay.core.exceptions import Conflict, InvalidInput, NotFound, NotPermitted, QuotaExceeded
from assay.generation.choices import JobStatus
from assay.generation.models import GenerationJob
from assay.generation.registry import default_model_is_demo
from assay.generation.services import cancel_job
from assay.plugins.contracts import Generator
from assay.plugins.manager import get_plugins
from assay.portal.forms import (
    VAR_PREFIX,
    GenerationForm,
    choose_version,
    version_label,
)
from assay.portal.home_work import projects_with_work
from assay.portal.media_errors import speaks_media_errors
from assay.portal.quota_words import quota_message
from assay.portal.ranges import ranged
from assay.portal.starts import Start, start_from, visible_asset
from assay.portal.words import generator_words
from assay.studio.models import Asset, Project, PromptTemplate
from assay.studio.models.assets import REVISION_KEYS
from assay.studio.services.projects import require_capability, role_in
from governance.provenance.downloads import asset_download
from governance.review.styled import styled_submission

RECENT_JOBS = 20
#: Modalities whose locally built demo models (``assay-demo-*``) make noise, not content.
NOISY_DEMOS = ("image", "audio", "video")


# -- helpers ------------------------------------------------------------------------------
def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _project(request: HttpRequest, slug: str) -> Project:
    return get_object_or_404(Project.objects.visible_to(request.user).select_related("team"),
                             slug=slug)


def _can(request: HttpRequest, project: Project, capability: str) -> bool:
    return Project.objects.visible_to(request.user, capability).filter(pk=project.pk).exists()


def _role_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    """What the header shows: the user's role in the project they are looking at."""
    return {"project": project, "role": role_in(request.user, project)}


def _templates(request: HttpRequest, project: Project) -> list[PromptTemplate]:
    return list(PromptTemplate.objects.visible_to(request.user).filter(project=project)
                .prefetch_related("versions", "labels"))


def _job(request: HttpRequest, job_id: Any) -> GenerationJob:
    return get_object_or_404(
        GenerationJob.objects.visible_to(request.user).select_related(
            "project", "prompt_version__template", "requested_by"),
        pk=job_id)


# -- pages --------------------------------------------------------------------------------
@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """My projects, with my role and my pending work in each (see portal.home_work)."""
    return render(request, "portal/home.html", {
        "projects": projects_with_work(request.user),
        "can_create": request.user.is_platform_admin})


@login_required
@require_GET
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A project's prompt templates and its recent jobs."""
    project = _project(request, slug)
    rows = []
    for template in _templates(request, project):
        versions = sorted(template.versions.all(), key=lambda v: v.number)
        latest = versions[-1] if versions else None
        by_version = {v.pk: v for v in versions}
        labels = sorted((lb.name, by_version[lb.version_id].number)
                        for lb in template.labels.all() if lb.version_id in by_version)
        rows.append({"template": template, "latest": latest, "count": len(versions),
                     "labels": labels})
    jobs = (GenerationJob.objects.visible_to(request.user).filter(project=project)
            .select_related("prompt_version__template", "requested_by")[:RECENT_JOBS])
    return render(request, "portal/project.html", {
        **_role_context(request, project),
        "templates": rows,
        "jobs": jobs,
        "can_generate": _can(request, project, Capability.GENERATE),
    })


def _generation_form(request: HttpRequest, project: Project, templates: list[PromptTemplate],
                     start: Start, *, data: Any = None) -> GenerationForm | None:
    """The form for the version and generator asked for (their defaults otherwise)."""
    version = choose_version(templates, start.version)
    if version is None:
        return None
    generators: dict[str, type[Generator]] = {
        gid: cls for gid, cls in get_plugins().generators.items()
        if cls.modality == version.modality}
    generator_id = start.generator if start.generator in generators else version.generator_id
    form = GenerationForm(
        data, templates=templates, version=version, generators=generators,
        generator_id=generator_id, carried=start.carried,
        parameters=start.parameters if start.parameters_for == generator_id else None,
        parent=start.parent, revision=start.revision,
        fields_url=reverse("portal:generate_fields", args=[project.slug]))
    chosen = generators.get(generator_id)
    # Image, audio and video stand-ins make noise; say so before anyone generates.
    form.demo_model = (version.modality in NOISY_DEMOS and chosen is not None
                       and default_model_is_demo(project, chosen,
                                                 str(settings.ASSAY_MODELS_DIR)))
    return form


def _refused(request: HttpRequest, project: Project, message: str) -> HttpResponse:
    return render(request, "portal/refused.html",
                  {**_role_context(request, project), "message": message}, status=403)


def _posted_start(request: HttpRequest, project: Project) -> Start:
    """A POST names everything itself; look up only what the page shows of it."""
    post = request.POST
    return Start(version=post.get("prompt_version"), generator=post.get("generator"),
                 parent=visible_asset(request.user, project, post.get("parent_asset"),
                                      kind="image"),
                 revision=visible_asset(request.user, project, post.get("revision_of")))


@login_required
@require_http_methods(["GET", "POST"])
def generate(request: HttpRequest, slug: str) -> HttpResponse:
    """The generation form; a valid POST queues a job and opens its page.

    A GET may start from an earlier job, a starting image or an asset to revise (see
    ``assay.portal.starts``). A refused POST shows the form again with what was typed and
    every problem at once; a quota refusal is a sentence, not an error page.
    """
    project = _project(request, slug)
    try:
        require_capability(request.user, project, Capability.GENERATE,
                           doing="submit generations")
    except NotPermitted as exc:
        return _refused(request, project, exc.message)
    templates = _templates(request, project)
    posted = request.method == "POST"
    start = (_posted_start(request, project) if posted
             else start_from(request.user, project, templates, request.GET))
    form = _generation_form(request, project, templates, start,
                            data=request.POST if posted else None)
    context: dict[str, Any] = {**_role_context(request, project), "form": form,
                               "notices": start.notices}
    if form is None or not posted:
        return render(request, "portal/generate.html", context)

    form.is_valid()  # shape only; the service decides what is acceptable
    try:
        job = styled_submission(request.user, project=project, **form.submission())
    except QuotaExceeded as exc:
        response = render(request, "portal/generate.html",
                          {**context, "quota_error": quota_message(exc.quota),
                           "error": exc.message}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except NotPermitted as exc:
        form.add_service_errors(exc)
        return render(request, "portal/generate.html", {**context, "error": exc.message},
                      status=403)
    except (InvalidInput, NotFound, Conflict) as exc:
        form.add_service_errors(exc)
        return render(request, "portal/generate.html", {**context, "error": exc.message},
                      status=exc.status_code)
    return redirect("portal:job", job_id=job.pk)


@login_required
@require_GET
def generate_fields(request: HttpRequest, slug: str) -> HttpResponse:
    """The variable and setting inputs for another version or generator (htmx partial).

    Values already typed into same-named variables (and the seed) are carried over; the
    settings start from the chosen generator's own defaults.
    """
    project = _project(request, slug)
    try:
        require_capability(request.user, project, Capability.GENERATE,
                           doing="submit generations")
    except NotPermitted as exc:
        return HttpResponse(exc.message, status=403, content_type="text/plain")
    start = Start(
        version=request.GET.get("prompt_version") or request.GET.get("version"),
        generator=request.GET.get("generator"),
        carried={k: v for k, v in request.GET.items() if k.startswith(VAR_PREFIX) or k == "seed"},
        parent=visible_asset(request.user, project, request.GET.get("parent_asset"),
                             kind="image"))
    form = _generation_form(request, project, _templates(request, project), start)
    if form is None:
        raise Http404("This project has no prompt templates.")
    return render(request, "portal/_generation_fields.html", {"form": form, "project": project})


def _with_newest_versions(assets: list[Asset]) -> list[Asset]:
    """Tell each asset's caption its newest version with one query for all of them.

    The caption asks ``asset.newest_version`` (a query per asset); an asset nobody revised
    is its own newest version, so that answer is set on the instance, and only assets
    that were revised (rare on a job page) ask the model.
    """
    if not assets:
        return assets
    revised = set(Asset.objects.filter(parent__in=assets).filter(
        Q(metadata__has_key=REVISION_KEYS[0]) | Q(metadata__has_key=REVISION_KEYS[1])
    ).values_list("parent_id", flat=True))
    for asset in assets:
        if asset.pk not in revised:
            asset.newest_version = asset  # shadows the method: there is nothing newer
    return assets


def _job_status_context(request: HttpRequest, job: GenerationJob) -> dict[str, Any]:
    assets: list[Asset] = []
    if job.status == JobStatus.SUCCEEDED:
        assets = _with_newest_versions(list(
            Asset.objects.visible_to(request.user).filter(job=job)
            .prefetch_related("reviews").order_by("index")))
    can_generate = _can(request, job.project, Capability.GENERATE)
    model_name = str((job.model_ref or {}).get("name") or "")
    return {"job": job, "assets": assets, "can_cancel": can_generate and not job.is_terminal,
            "can_generate": can_generate,
            "demo_image": job.modality == "image" and model_name.startswith("assay-demo"),
            "demo_media": (job.modality in ("audio", "video")
                           and model_name.startswith("assay-demo"))}


def _settings_in_words(job: GenerationJob) -> list[tuple[str, str]]:
    """The job's settings under their labels, in the generator's order (seed apart)."""
    generator = get_plugins().generator(job.generator_id)
    params = {p.name: p for p in generator.all_parameters()} if generator else {}
    order = [name for name in params if name in job.parameters] + sorted(
        name for name in job.parameters if name not in params)
    rows = []
    for name in order:
        if name == "seed":
            continue
        value = job.parameters[name]
        label = (params[name].describe()["label"] if name in params
                 else name.replace("_", " ").capitalize())
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        else:
            shown = "none" if value in ("", None) else str(value)
        rows.append((label, shown))
    return rows


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: Any) -> HttpResponse:
    """A job: what was asked for in words, its live status and its outputs side by side."""
    job = _job(request, job_id)
    labels = [lb.name for lb in job.prompt_version.labels.all()]
    return render(request, "portal/job.html", {
        **_role_context(request, job.project),
        **_job_status_context(request, job),
        "version_label": version_label(job.prompt_version, labels),
        "generator_name": generator_words(job.generator_id),
        "settings": _settings_in_words(job),
        "parameters": sorted((k, json.dumps(v)) for k, v in job.parameters.items()
                             if k != "seed"),
    })


@login_required
@require_GET
def job_status(request: HttpRequest, job_id: Any) -> HttpResponse:
    """The status block alone, polled by htmx until the job is terminal."""
    job = _job(request, job_id)
    return render(request, "portal/_job_status.html", _job_status_context(request, job))


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: Any) -> HttpResponse:
    """Cancel through the service; htmx gets the status block back, a plain form a redirect."""
    job = _job(request, job_id)
    notice = ""
    try:
        job = cancel_job(request.user, job)
    except NotPermitted as exc:
        if _is_htmx(request):
            return HttpResponse(exc.message, status=403, content_type="text/plain")
        return _refused(request, job.project, exc.message)
    except Conflict as exc:
        notice = exc.message
    else:
        notice = ("Cancelled." if job.status == JobStatus.CANCELLED
                  else "Cancellation requested; the job stops at its next step.")
    if _is_htmx(request):
        job = _job(request, job.pk)
        return render(request, "portal/_job_status.html",
                      {**_job_status_context(request, job), "notice": notice})
    messages.info(request, notice)
    return redirect("portal:job", job_id=job.pk)


@login_required
@require_GET
@speaks_media_errors
def asset_content(request: HttpRequest, asset_id: Any) -> HttpResponse:
    """An asset's stored bytes, for members only (media files are never linked directly).

    Answers byte ranges (``assay.portal.ranges``), so audio and video players can seek.
    """
    asset = get_object_or_404(Asset.objects.visible_to(request.user), pk=asset_id)
    response = ranged(request, asset_download(asset))
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers that ask for /favicon.ico directly get the portal's SVG icon, not a 404."""
    return HttpResponsePermanentRedirect(static("portal/favicon.svg"))
