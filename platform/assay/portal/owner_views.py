"""Owners' screens: brand kit, fact library, review policy, quotas and project models.

Each page saves through the same service its REST twin calls (``governance.review.brand``,
``governance.review.fact_csv``, ``governance.usage.services``, ``assay.generation.allowlist``)
and shows that service's refusals on the field they concern. Members read every page;
owners (and platform admins) edit; a refused save is a 403 saying who may; outsiders 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from assay.accounts.choices import Capability
from assay.core.exceptions import AssayError, InvalidInput, NotFound, NotPermitted
from assay.generation import allowlist
from assay.portal import owner_forms as of
from assay.studio.models import Membership, Project
from assay.studio.services.projects import require_capability
from governance.review import brand, fact_csv
from governance.review.models import ApprovedFact
from governance.usage import services as usage
from governance.usage.choices import Metric

_SEVERITY_WORDS = {"info": "information", "low": "low", "medium": "medium", "high": "high",
                   "critical": "critical"}


def _project(request: HttpRequest, slug: str) -> tuple[Project, bool]:
    """The project (404 unless the user may see it) and whether they may edit it."""
    try:
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
    except NotFound:
        raise Http404("No such project among yours.") from None
    can_edit = Project.objects.visible_to(request.user, Capability.MANAGE).filter(
        pk=project.pk).exists()
    return project, can_edit


def _put_errors(form: Any, exc: AssayError, fields: dict[str, str] | None = None) -> None:
    """The service's refusal on the form field it names (else above the form)."""
    fields = fields or {}
    placed = False
    for key in exc.errors:
        head = key.split(".")[0]
        field = fields.get(head, head)
        if field in form.fields:
            form.add_error(field, _line_words(exc.message))
            placed = True
            break
    if not placed:
        form.add_error(None, _line_words(exc.message))


def _line_words(message: str) -> str:
    """``banned_terms[2] needs…`` → ``Line 3: needs…`` (owners edit lines, not lists)."""
    for name in ("banned_terms", "disclaimers", "stages"):
        prefix = f"{name}["
        if message.startswith(prefix) and "]" in message:
            index, rest = message[len(prefix):].split("]", 1)
            if index.isdigit():
                what = "Stage" if name == "stages" else "Line"
                return f"{what} {int(index) + 1}: {rest.lstrip(':').strip()}"
    return message


def _not_owner(request: HttpRequest, project: Project, doing: str) -> HttpResponse:
    """A member (or auditor) who may read but not change: a 403 in words."""
    return _refused(request, project, NotPermitted(
        f"Only the project's owners can {doing}; ask an owner of {project.name}."))


def _refused(request: HttpRequest, project: Project, exc: AssayError) -> HttpResponse:
    return render(request, "portal/refused.html", {"project": project, "message": exc.message},
                  status=exc.status_code)


# --- brand kit ---------------------------------------------------------------------------


def _kit_initial(project: Project) -> dict[str, Any]:
    kit = brand.kit_for(project)
    return {"voice": kit.voice, "banned_terms": of.terms_text(kit.banned_terms),
            "disclaimers": of.disclaimers_text(kit.disclaimers), "min_width": kit.min_width,
            "min_height": kit.min_height}


def _kit_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What a save changed, in words."""
    changes = []
    if before["voice"] != after["voice"]:
        changes.append("The voice was rewritten.")
    old_terms = {t["term"]: t for t in before["banned_terms"]}
    new_terms = {t["term"]: t for t in after["banned_terms"]}
    changes += [f"Banned “{t}”." for t in new_terms if t not in old_terms]
    changes += [f"“{t}” is allowed again." for t in old_terms if t not in new_terms]
    changes += [f"New alternatives for “{t}”." for t in new_terms
                if t in old_terms and new_terms[t] != old_terms[t]]
    old_d = {d["text"]: d for d in before["disclaimers"]}
    new_d = {d["text"]: d for d in after["disclaimers"]}
    changes += [f"New disclaimer “{t}”." for t in new_d if t not in old_d]
    changes += [f"Disclaimer “{t}” removed." for t in old_d if t not in new_d]
    changes += [f"Disclaimer “{t}” now appears on other triggers." for t in new_d
                if t in old_d and new_d[t] != old_d[t]]
    for key, words in (("min_width", "width"), ("min_height", "height")):
        if before[key] != after[key]:
            changes.append(f"Smallest image {words}: {before[key]} → {after[key]} pixels.")
    return changes


def _kit_state(project: Project) -> dict[str, Any]:
    kit = brand.kit_for(project)
    return {"voice": kit.voice, "banned_terms": kit.banned_terms,
            "disclaimers": kit.disclaimers, "min_width": kit.min_width,
            "min_height": kit.min_height}


@login_required
@require_http_methods(["GET", "POST"])
def brand_kit(request: HttpRequest, slug: str) -> HttpResponse:
    """Read the brand kit; owners edit it (checked as they type, saved by the service)."""
    project, can_edit = _project(request, slug)
    if request.method == "POST" and not can_edit:
        return _not_owner(request, project, "edit the brand kit")
    changes: list[str] | None = None
    posted = request.POST if request.method == "POST" else None
    form = of.BrandKitForm(posted, initial=_kit_initial(project))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            before = _kit_state(project)
            try:
                brand.update_brand_kit(request.user, project, form.service_data())
            except NotPermitted as exc:
                return _refused(request, project, exc)
            except InvalidInput as exc:
                _put_errors(form, exc)
            else:
                changes = _kit_changes(before, _kit_state(project))
                form = of.BrandKitForm(initial=_kit_initial(project))
        if form.errors:
            status = 400
    check_url = reverse("portal:brand_kit_check", args=[project.slug])
    for name in ("banned_terms", "disclaimers"):
        form.fields[name].widget.attrs.update({
            "hx-post": check_url, "hx-trigger": "input changed delay:300ms",
            "hx-target": f"#check-{name}", "hx-vals": json.dumps({"field": name})})
    return render(request, "portal/brand_kit.html", {
        "project": project, "can_edit": can_edit, "form": form, "changes": changes,
    }, status=status)


@login_required
@require_POST
def brand_kit_check(request: HttpRequest, slug: str) -> HttpResponse:
    """Check one field as it is typed, with the service's own rules; stores nothing."""
    project, _ = _project(request, slug)
    field = request.POST.get("field", "")
    text = request.POST.get(field, "")
    problem, summary = "", ""
    try:
        if field == "banned_terms":
            terms = brand.clean_kit({"banned_terms": of.parse_terms(text)},
                                     partial=True)["banned_terms"]
            summary = f"{len(terms)} banned term(s), written correctly."
        elif field == "disclaimers":
            items = brand.clean_kit({"disclaimers": of.parse_disclaimers(text)},
                                     partial=True)["disclaimers"]
            summary = f"{len(items)} disclaimer(s), written correctly."
        else:
            problem = "Choose banned terms or disclaimers to check."
    except InvalidInput as exc:
        problem = _line_words(exc.message)
    return render(request, "portal/_brand_check.html", {
        "project": project, "problem": problem, "summary": summary},
        status=400 if field not in ("banned_terms", "disclaimers") else 200)


# --- facts ---------------------------------------------------------------------------


def _fact_dict(f: ApprovedFact) -> dict[str, Any]:
    return {"statement": f.statement, "source_url": f.source_url,
            "valid_from": f.valid_from, "valid_until": f.valid_until}


def _fact_dicts(project: Project) -> list[dict[str, Any]]:
    return [_fact_dict(f) for f in ApprovedFact.objects.filter(project=project).order_by("pk")]


@login_required
@require_http_methods(["GET", "POST"])
def facts(request: HttpRequest, slug: str) -> HttpResponse:
    """The fact library: add, remove, import from CSV (all or nothing), export."""
    project, can_edit = _project(request, slug)
    if request.method == "POST" and not can_edit:
        return _not_owner(request, project, "change the approved facts")
    action = request.POST.get("action", "add") if request.method == "POST" else ""
    form = of.FactForm(request.POST if action == "add" else None)
    upload = of.FactImportForm(request.POST if action == "import" else None,
                               request.FILES if action == "import" else None)
    notice, row_errors, status = "", {}, 200
    if request.method == "POST":
        try:
            if action == "remove":
                keep = [_fact_dict(f) for f in ApprovedFact.objects.filter(
                    project=project).order_by("pk") if str(f.pk) != request.POST.get("fact")]
                brand.replace_facts(request.user, project, keep)
                notice = "The fact was removed; new assets are checked without it."
            elif action == "import" and upload.is_valid():
                count = fact_csv.import_facts(request.user, project,
                                              upload.cleaned_data["file"].read(),
                                              mode=upload.cleaned_data["mode"])
                notice = f"Imported {count} fact(s); new assets are checked against them."
                upload = of.FactImportForm()
            elif action == "add" and form.is_valid():
                brand.replace_facts(request.user, project,
                                    [*_fact_dicts(project), form.cleaned_data])
                notice = "The fact was added; new assets are checked against it."
                form = of.FactForm()
        except NotPermitted as exc:
            return _refused(request, project, exc)
        except InvalidInput as exc:
            target = upload if action == "import" else form
            row_errors = {k: v for k, v in exc.errors.items() if k.startswith("row ")}
            target.add_error(None, exc.message if row_errors else _fact_words(exc.message))
        if form.errors or upload.errors:
            status = 400
    return render(request, "portal/facts.html", {
        "project": project, "can_edit": can_edit, "form": form, "upload": upload,
        "facts": ApprovedFact.objects.filter(project=project).order_by("pk"),
        "notice": notice, "row_errors": sorted(row_errors.items(),
                                               key=lambda kv: int(kv[0].split()[1])),
    }, status=status)


def _fact_words(message: str) -> str:
    return message.split("] ", 1)[-1] if message.startswith("facts[") else message


# --- review policy -------------------------------------------------------------------


def _stage_initial(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**s, "ORDER": i + 1} for i, s in enumerate(stages)]


@login_required
@require_http_methods(["GET", "POST"])
def review_policy(request: HttpRequest, slug: str) -> HttpResponse:
    """Stages (who decides, how many approvals, due hours), blocking severities, auto-submit.

    "Add a stage" re-shows the form with one more empty stage; stages are removed with
    their checkbox and reordered by their numbers; nothing is stored until "Save".
    """
    project, can_edit = _project(request, slug)
    if request.method == "POST" and not can_edit:
        return _not_owner(request, project, "change the review policy")
    policy = brand.policy_for(project)
    saved, status = False, 200
    data: QueryDict | None = request.POST if request.method == "POST" else None
    if data is not None and data.get("action") == "add":
        data = data.copy()
        data["stages-TOTAL_FORMS"] = str(int(data.get("stages-TOTAL_FORMS") or 0) + 1)
    stages = of.StageFormSet(data, prefix="stages", initial=_stage_initial(policy.stages))
    settings_form = of.PolicyForm(data, initial={
        "blocking_severities": policy.blocking_severities, "auto_submit": policy.auto_submit})
    if request.method == "POST" and request.POST.get("action") != "add":
        if stages.is_valid() and settings_form.is_valid():
            kept = [f for f in stages.ordered_forms if not f.cleaned_data.get("DELETE")]
            body = {"stages": [{k: f.cleaned_data[k] for k in
                                ("name", "roles", "approvals_required", "due_hours")}
                               for f in kept],
                    "blocking_severities": settings_form.cleaned_data["blocking_severities"],
                    "auto_submit": settings_form.cleaned_data["auto_submit"]}
            for stage in body["stages"]:
                if float(stage["due_hours"]).is_integer():
                    stage["due_hours"] = int(stage["due_hours"])
            try:
                brand.update_policy(request.user, project, body)
            except NotPermitted as exc:
                return _refused(request, project, exc)
            except InvalidInput as exc:
                _policy_errors(exc, kept, settings_form)
            else:
                saved = True
                policy = brand.policy_for(project)
                stages = of.StageFormSet(prefix="stages",
                                         initial=_stage_initial(policy.stages))
                settings_form = of.PolicyForm(initial={
                    "blocking_severities": policy.blocking_severities,
                    "auto_submit": policy.auto_submit})
        if not saved:
            status = 400
    return render(request, "portal/review_policy.html", {
        "project": project, "can_edit": can_edit, "stages": stages,
        "settings_form": settings_form, "saved": saved, "policy": policy,
        "severity_words": _SEVERITY_WORDS,
    }, status=status)


def _policy_errors(exc: InvalidInput, kept: list[Any], settings_form: Any) -> None:
    for key in exc.errors:
        parts = key.split(".")
        if parts[0] == "stages" and len(parts) > 1 and parts[1].isdigit() \
                and int(parts[1]) < len(kept):
            kept[int(parts[1])].add_error(None, _line_words(exc.message))
            return
    field = next((k for k in exc.errors if k in settings_form.fields), None)
    settings_form.add_error(field, exc.message)


# --- quotas --------------------------------------------------------------------------


def _over(row: dict[str, Any]) -> bool:
    return row["used"] + row["reserved"] >= row["limit"]


@login_required
@require_http_methods(["GET", "POST"])
def quotas(request: HttpRequest, slug: str) -> HttpResponse:
    """This month's quotas with used and reserved; owners set limits (warned when a limit
    is below what is already used)."""
    project, can_edit = _project(request, slug)
    if request.method == "POST" and not can_edit:
        return _not_owner(request, project, "set quotas")
    members = sorted(Membership.objects.filter(project=project).values_list(
        "user__username", flat=True))
    form = of.QuotaForm(request.POST if request.method == "POST" else None, members=members)
    warning, notice, status = "", "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                row = usage.set_project_quota(request.user, project, form.cleaned_data)
            except NotPermitted as exc:
                if "scope" in exc.errors:
                    form.add_error("scope", exc.message)
                else:
                    return _refused(request, project, exc)
            except InvalidInput as exc:
                _put_errors(form, exc)
            else:
                label = Metric(row["metric"]).label
                notice = f"{row['subject']}: at most {row['limit']} {label} a month."
                if row["used"] > row["limit"]:
                    warning = (f"This limit is below what is already used this month "
                               f"({row['used']} {label}): new work is refused until the "
                               f"quota resets on {row['resets_at'][:10]}.")
                elif _over(row):
                    warning = (f"This month's work already reaches this limit ({row['used']} "
                               f"used, {row['reserved']} in queued or running jobs): new work "
                               f"is refused until the quota resets on {row['resets_at'][:10]}.")
                form = of.QuotaForm(members=members)
        if form.errors:
            status = 400
    listing = usage.quotas_for(request.user, project)
    rows = [{**r, "label": Metric(r["metric"]).label, "over": _over(r)}
            for r in listing["quotas"]]
    return render(request, "portal/quotas.html", {
        "project": project, "can_edit": can_edit, "form": form, "rows": rows,
        "warning": warning, "notice": notice, "resets_at": listing["resets_at"][:10],
    }, status=status)


# --- models --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def project_models(request: HttpRequest, slug: str) -> HttpResponse:
    """Which registered models the project may use; owners choose."""
    project, can_edit = _project(request, slug)
    if request.method == "POST" and not can_edit:
        return _not_owner(request, project, "choose the project's models")
    choices = allowlist.model_choices(project)
    names = [c.name for c in choices if not c.everywhere]
    form = of.ModelsForm(request.POST if request.method == "POST" else None, names=names,
                         initial={"models": [c.name for c in choices if c.allowed]})
    saved, status = False, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                allowlist.set_project_models(request.user, project,
                                             form.cleaned_data["models"])
            except NotPermitted as exc:
                return _refused(request, project, exc)
            except InvalidInput as exc:
                _put_errors(form, exc)
            else:
                saved = True
                choices = allowlist.model_choices(project)
                form = of.ModelsForm(names=names, initial={
                    "models": [c.name for c in choices if c.allowed]})
        if form.errors:
            status = 400
    return render(request, "portal/project_models.html", {
        "project": project, "can_edit": can_edit, "form": form, "choices": choices,
        "saved": saved,
    }, status=status)
