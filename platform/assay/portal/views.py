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
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assay.accounts.choices import Capability
from assay.core.exceptions import Conflict, InvalidInput, NotFound, NotPermitted
from assay.generation.choices import JobStatus
from assay.generation.models import GenerationJob
from assay.generation.registry import default_model_is_demo
from assay.generation.services import cancel_job, submit_generation
from assay.plugins.contracts import Generator
from assay.plugins.manager import get_plugins
from assay.portal.forms import VAR_PREFIX, GenerationForm, choose_version, version_label
from assay.studio.models import Asset, Membership, Project, PromptTemplate
from assay.studio.services.projects import require_capability, role_in
from governance.provenance.downloads import asset_download

RECENT_JOBS = 20


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
    """My projects, with my role in each (one query)."""
    my_role = Membership.objects.filter(project=OuterRef("pk"), user=request.user)
    projects = (Project.objects.visible_to(request.user).select_related("team")
                .annotate(my_role=Subquery(my_role.values("role")[:1])))
    return render(request, "portal/home.html", {"projects": projects})


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
                     *, data: Any = None, wanted_version: Any = None,
                     wanted_generator: str | None = None,
                     carried: dict[str, Any] | None = None) -> GenerationForm | None:
    """The form for the version and generator asked for (their defaults otherwise)."""
    version = choose_version(templates, wanted_version)
    if version is None:
        return None
    generators: dict[str, type[Generator]] = {
        gid: cls for gid, cls in get_plugins().generators.items()
        if cls.modality == version.modality}
    generator_id = wanted_generator if wanted_generator in generators else version.generator_id
    form = GenerationForm(
        data, templates=templates, version=version, generators=generators,
        generator_id=generator_id, carried=carried,
        fields_url=reverse("portal:generate_fields", args=[project.slug]))
    chosen = generators.get(generator_id)
    form.demo_model = chosen is not None and default_model_is_demo(
        project, chosen, str(settings.ASSAY_MODELS_DIR))
    return form


def _refused(request: HttpRequest, project: Project, message: str) -> HttpResponse:
    return render(request, "portal/refused.html",
                  {**_role_context(request, project), "message": message}, status=403)


@login_required
@require_http_methods(["GET", "POST"])
def generate(request: HttpRequest, slug: str) -> HttpResponse:
    """The generation form; a valid POST queues a job and opens its page."""
    project = _project(request, slug)
    try:
        require_capability(request.user, project, Capability.GENERATE,
                           doing="submit generations")
    except NotPermitted as exc:
        return _refused(request, project, exc.message)
    templates = _templates(request, project)
    source = request.POST if request.method == "POST" else request.GET
    form = _generation_form(
        request, project, templates,
        data=request.POST if request.method == "POST" else None,
        wanted_version=source.get("prompt_version") or source.get("version"),
        wanted_generator=source.get("generator"))
    context: dict[str, Any] = {**_role_context(request, project), "form": form}
    if form is None or request.method == "GET":
        return render(request, "portal/generate.html", context)

    form.is_valid()  # shape only; the service decides what is acceptable
    try:
        job = submit_generation(request.user, project=project, **form.submission())
    except NotPermitted as exc:
        form.add_service_errors(exc)
        return render(request, "portal/generate.html", {**context, "error": exc.message},
                      status=403)
    except (InvalidInput, NotFound) as exc:
        form.add_service_errors(exc)
        return render(request, "portal/generate.html", {**context, "error": exc.message},
                      status=400)
    return redirect("portal:job", job_id=job.pk)


@login_required
@require_GET
def generate_fields(request: HttpRequest, slug: str) -> HttpResponse:
    """The variable and parameter inputs for another version or generator (htmx partial).

    Values already typed into same-named variables (and the seed) are carried over.
    """
    project = _project(request, slug)
    try:
        require_capability(request.user, project, Capability.GENERATE,
                           doing="submit generations")
    except NotPermitted as exc:
        return HttpResponse(exc.message, status=403, content_type="text/plain")
    carried = {k: v for k, v in request.GET.items() if k.startswith(VAR_PREFIX) or k == "seed"}
    form = _generation_form(
        request, project, _templates(request, project),
        wanted_version=request.GET.get("prompt_version") or request.GET.get("version"),
        wanted_generator=request.GET.get("generator"), carried=carried)
    if form is None:
        raise Http404("This project has no prompt templates.")
    return render(request, "portal/_generation_fields.html", {"form": form, "project": project})


def _job_status_context(request: HttpRequest, job: GenerationJob) -> dict[str, Any]:
    assets: list[Asset] = []
    if job.status == JobStatus.SUCCEEDED:
        assets = list(Asset.objects.visible_to(request.user).filter(job=job).order_by("index"))
    can_cancel = not job.is_terminal and _can(request, job.project, Capability.GENERATE)
    return {"job": job, "assets": assets, "can_cancel": can_cancel}


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: Any) -> HttpResponse:
    """A job: what was asked for, and its live status and output."""
    job = _job(request, job_id)
    labels = [lb.name for lb in job.prompt_version.labels.all()]
    return render(request, "portal/job.html", {
        **_role_context(request, job.project),
        **_job_status_context(request, job),
        "version_label": version_label(job.prompt_version, labels),
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
def asset_content(request: HttpRequest, asset_id: Any) -> HttpResponse:
    """An asset's stored bytes, for members only (media files are never linked directly)."""
    asset = get_object_or_404(Asset.objects.visible_to(request.user), pk=asset_id)
    response = asset_download(asset)
    response["Cache-Control"] = "private, max-age=3600"
    return response
