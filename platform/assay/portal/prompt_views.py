"""The prompt library: templates, their versions and labels, compare, and writing versions.

Members read (non-members: 404); creators and owners write templates and versions and
move labels. Every write calls the service in ``assay.studio.services.prompts`` that the
REST endpoints call, so a refusal (a protected label among them) reads the same in both.
"Try it" renders through ``preview_prompt``, the REST ``render`` endpoint's service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assay.accounts.choices import Capability
from assay.core.exceptions import AssayError, NotFound, NotPermitted
from assay.portal.prompt_forms import (
    TemplateForm,
    VariableFormSet,
    VersionForm,
    initial_from,
    map_errors,
    samples_of,
    variables_of,
)
from assay.portal.versions import text_diff
from assay.studio.models import Project, PromptLabel, PromptTemplate, PromptVersion
from assay.studio.services import prompts
from assay.studio.services.projects import require_capability
from assay.studio.services.protection import protections_for

_LATEST = prompts.LATEST


def _project(request: HttpRequest, slug: str) -> Project:
    return get_object_or_404(Project.objects.visible_to(request.user).select_related("team"),
                             slug=slug)


def _can_write(request: HttpRequest, project: Project) -> bool:
    return Project.objects.visible_to(request.user, Capability.GENERATE).filter(
        pk=project.pk).exists()


def _refused(request: HttpRequest, project: Project, message: str) -> HttpResponse:
    return render(request, "portal/refused.html", {"project": project, "message": message},
                  status=403)


def _template(project: Project, template_slug: str) -> PromptTemplate:
    versions = PromptVersion.objects.order_by("-number").select_related("created_by")
    labels = PromptLabel.objects.order_by("name")
    return get_object_or_404(
        PromptTemplate.objects.filter(project=project).prefetch_related(
            Prefetch("versions", queryset=versions), Prefetch("labels", queryset=labels)),
        slug=template_slug)


def _labels_by_version(template: PromptTemplate) -> dict[int, list[PromptLabel]]:
    found: dict[int, list[PromptLabel]] = {}
    for label in template.labels.all():
        found.setdefault(label.version_id, []).append(label)
    return found


@login_required
@require_GET
def prompt_library(request: HttpRequest, slug: str) -> HttpResponse:
    """Every template of the project with its newest version and labels."""
    project = _project(request, slug)
    templates = PromptTemplate.objects.filter(project=project).prefetch_related(
        Prefetch("versions", queryset=PromptVersion.objects.order_by("-number")),
        Prefetch("labels", queryset=PromptLabel.objects.order_by("name")))
    rows = []
    for template in templates:
        versions = list(template.versions.all())
        numbers = {v.pk: v.number for v in versions}
        rows.append({"template": template, "latest": versions[0] if versions else None,
                     "count": len(versions),
                     "labels": [(lb.name, numbers.get(lb.version_id)) for lb
                                in template.labels.all()]})
    return render(request, "portal/prompts.html", {
        "project": project, "rows": rows, "can_write": _can_write(request, project)})


@login_required
@require_GET
def prompt_detail(request: HttpRequest, slug: str, template_slug: str) -> HttpResponse:
    """Versions, labels with move and roll back, and a compare of any two versions."""
    project = _project(request, slug)
    template = _template(project, template_slug)
    versions = list(template.versions.all())
    by_pk = {v.pk: v for v in versions}
    compare: dict[str, Any] | None = None
    error = ""
    if versions:
        old_ref = request.GET.get("from") or (versions[1].pk if len(versions) > 1
                                               else versions[0].pk)
        new_ref = request.GET.get("to") or versions[0].pk
        try:
            old, new = (prompts.find_version(template, ref) for ref in (old_ref, new_ref))
        except NotFound as exc:
            error = exc.message
        else:
            old, new = by_pk.get(old.pk, old), by_pk.get(new.pk, new)
            compare = {"old": old, "new": new, "diff": text_diff(old.text, new.text)}
    protected = {p.name for p in protections_for(project)
                 if p.template_id in (None, template.pk)}
    labels = list(template.labels.all())
    for label in labels:
        label.held = by_pk.get(label.version_id)
        label.protected = label.name in protected
    return render(request, "portal/prompts_template.html", {
        "project": project, "template": template, "versions": versions,
        "labels": labels, "labels_by_version": _labels_by_version(template),
        "movable": [lb for lb in labels if lb.name != _LATEST and not lb.protected],
        "compare": compare, "error": error, "can_write": _can_write(request, project),
    }, status=404 if error else 200)


def _version_forms(request: HttpRequest, initial: dict[str, Any] | None = None,
                   rows: list[dict[str, Any]] | None = None
                   ) -> tuple[VersionForm, Any]:
    posted = request.method == "POST"
    form = VersionForm(request.POST if posted else None, initial=initial or {})
    formset = VariableFormSet(request.POST if posted else None, initial=rows or [],
                              prefix="var")
    return form, formset


def _version_fields(form: VersionForm, formset: Any) -> dict[str, Any]:
    data = form.cleaned_data
    return {"text": data["text"], "variables": variables_of(formset),
            "generator_id": data["generator"], "note": data.get("note", ""),
            "default_model": data.get("model", ""),
            "default_parameters": data.get("default_parameters") or {}}


@login_required
@require_http_methods(["GET", "POST"])
def prompt_new(request: HttpRequest, slug: str) -> HttpResponse:
    """A new template with its first version."""
    project = _project(request, slug)
    try:
        require_capability(request.user, project, Capability.GENERATE,
                           doing="write prompt templates")
    except NotPermitted as exc:
        return _refused(request, project, exc.message)
    head = TemplateForm(request.POST if request.method == "POST" else None)
    form, formset = _version_forms(request)
    problems: list[str] = []
    if request.method == "POST" and all(f.is_valid() for f in (head, form, formset)):
        fields = _version_fields(form, formset)
        fields.pop("note")
        try:
            template = prompts.write_template(project, request.user, **head.cleaned_data,
                                              **fields)
        except AssayError as exc:
            problems = map_errors(exc, head, form)
        else:
            messages.info(request, f"Saved “{template.name}” as version 1.")
            return redirect("portal:prompt", project.slug, template.slug)
    return render(request, "portal/prompts_form.html", {
        "project": project, "head": head, "form": form, "formset": formset,
        "problems": problems, "template": None,
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def prompt_version_new(request: HttpRequest, slug: str, template_slug: str) -> HttpResponse:
    """A new version, prefilled from the latest; saving moves the latest label to it."""
    project = _project(request, slug)
    template = _template(project, template_slug)
    try:
        require_capability(request.user, project, Capability.GENERATE,
                           doing="write prompt templates")
    except NotPermitted as exc:
        return _refused(request, project, exc.message)
    versions = list(template.versions.all())
    initial, rows = initial_from(versions[0] if versions else None)
    form, formset = _version_forms(request, initial, rows)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            version = prompts.write_version(template, request.user,
                                            **_version_fields(form, formset))
        except AssayError as exc:
            problems = map_errors(exc, form)
        else:
            messages.info(request, f"Saved version {version.number}; the latest label "
                                   "points at it now.")
            return redirect("portal:prompt", project.slug, template.slug)
    return render(request, "portal/prompts_form.html", {
        "project": project, "head": None, "form": form, "formset": formset,
        "problems": problems, "template": template,
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def prompt_try(request: HttpRequest, slug: str) -> HttpResponse:
    """Try it (htmx partial): render the unsaved form's text with each variable's example."""
    project = _project(request, slug)
    form, formset = _version_forms(request)
    form.is_valid()
    formset.is_valid()
    variables = variables_of(formset)
    context: dict[str, Any] = {"prompt": None, "error": ""}
    try:
        context["prompt"] = prompts.preview_prompt(
            project, request.user, text=request.POST.get("text", ""), variables=variables,
            values=samples_of(variables))
    except NotPermitted as exc:
        return HttpResponse(exc.message, status=403, content_type="text/plain")
    except AssayError as exc:
        # The author's mistake is the answer to "try it", shown in the panel: a 200,
        # since htmx swaps no 4xx into the page.
        context["error"] = exc.message
    return render(request, "portal/prompts_try.html", context)


@login_required
@require_POST
def prompt_label_move(request: HttpRequest, slug: str, template_slug: str) -> HttpResponse:
    """Move a label (or roll it back) to a version, through the label service."""
    project = _project(request, slug)
    template = _template(project, template_slug)
    try:
        require_capability(request.user, project, Capability.GENERATE,
                           doing="move prompt labels")
    except NotPermitted as exc:
        return _refused(request, project, exc.message)
    name = request.POST.get("name", "").strip()
    try:
        label = prompts.move_label_to(template, request.user, name=name,
                                      version_ref=request.POST.get("version", ""))
    except AssayError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, f"The {label.name} label now points at version "
                               f"{label.version.number}.")
    return redirect("portal:prompt", project.slug, template.slug)
