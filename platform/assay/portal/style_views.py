"""Owners' brand styles screen: the brand kit's named looks for images, added and changed.

Everything goes through ``governance.review.styles``, which the REST twin calls too.
Members read the styles (creators pick one on the generate form); owners (and platform
admins) add, change and remove them; a refused save is a 403 in words, outsiders a 404.
The form checks shape only; the service's refusal is shown on the field it names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from assay.accounts.choices import Capability
from assay.core.exceptions import AssayError, InvalidInput, NotFound, NotPermitted
from assay.studio.models import Asset, Project
from assay.studio.services.projects import require_capability
from governance.review import styles
from governance.review.style_models import BrandStyle


def _size_input(low: int, high: int, step: int) -> forms.NumberInput:
    return forms.NumberInput(attrs={"min": low, "max": high, "step": step})


class StyleForm(forms.Form):
    """Shape only: the service checks names, bounds and the reference image."""

    name = forms.CharField(max_length=styles.NAME_CHARS, strip=True,
                           help_text="What creators pick, e.g. “Autumn campaign”.")
    description = forms.CharField(max_length=styles.DESCRIPTION_CHARS, required=False,
                                  strip=True, help_text="When to use it, in a sentence.")
    prompt_additions = forms.CharField(
        label="Words added to the prompt", required=False, strip=True,
        max_length=styles.ADDITION_CHARS, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Put after every prompt made in this style, e.g. “watercolour, soft "
                  "morning light”.")
    negative_prompt = forms.CharField(
        label="Leave out", required=False, strip=True, max_length=styles.NEGATIVE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What images in this style should not show; the creator may add more.")
    width = forms.IntegerField(
        required=False, widget=_size_input(styles.SIZE_MIN, styles.SIZE_MAX,
                                           styles.SIZE_MULTIPLE),
        help_text=f"Pixels, {styles.SIZE_MIN} to {styles.SIZE_MAX}, a multiple of "
                  f"{styles.SIZE_MULTIPLE}. Blank: the usual size.")
    height = forms.IntegerField(
        required=False, widget=_size_input(styles.SIZE_MIN, styles.SIZE_MAX,
                                           styles.SIZE_MULTIPLE),
        help_text=f"Pixels, {styles.SIZE_MIN} to {styles.SIZE_MAX}, a multiple of "
                  f"{styles.SIZE_MULTIPLE}. Blank: the usual size.")
    steps = forms.IntegerField(
        label="Refinement steps", required=False,
        widget=_size_input(styles.STEPS_MIN, styles.STEPS_MAX, 1),
        help_text=f"{styles.STEPS_MIN} to {styles.STEPS_MAX}; more is slower and usually "
                  "cleaner. Blank: the usual number.")
    reference = forms.ChoiceField(
        label="Reference image", required=False,
        help_text="An approved image every image in this style starts from (the new image "
                  "is painted over it). Only approved images of this project are offered.")
    strength = forms.FloatField(
        label="How much to change the reference", required=False,
        widget=forms.NumberInput(attrs={"min": styles.STRENGTH_MIN,
                                        "max": styles.STRENGTH_MAX, "step": "0.05"}),
        help_text=f"From {styles.STRENGTH_MIN} (keep most of it) to {styles.STRENGTH_MAX} "
                  "(repaint all of it). Blank: 0.6.")

    def __init__(self, *args: Any, references: list[Asset], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reference"].choices = [("", "None: start from nothing")] + [
            (str(a.pk), reference_words(a)) for a in references]

    def service_data(self) -> dict[str, Any]:
        """The service's input: every field, a blank one as none (a blank size or step
        count means the usual one, a blank strength 0.6, a blank reference none)."""
        return {key: (None if value in ("", None) else value)
                for key, value in self.cleaned_data.items()}


def reference_words(asset: Asset) -> str:
    """How an image reads in the reference select: when it was made and its size."""
    made = timezone.localtime(asset.created_at).strftime("%d %b %Y, %H:%M")
    size = f", {asset.width}×{asset.height}" if asset.width and asset.height else ""
    return f"Image of {made}{size}"


def _refused(request: HttpRequest, exc: AssayError, project: Any = None) -> HttpResponse:
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    return render(request, "portal/refused.html", {"project": project, "message": exc.message},
                  status=exc.status_code)


def _put_errors(form: forms.Form, exc: AssayError) -> None:
    """The service's words for the field it names (else above the form)."""
    for key, items in exc.errors.items():
        if key in form.fields:
            form.add_error(key, "; ".join(items).capitalize() + ".")
            return
    form.add_error(None, exc.message)


def _project(request: HttpRequest, slug: str) -> tuple[Project, bool]:
    """The project (404 unless the user may see it) and whether they may edit its styles."""
    try:
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
    except NotFound:
        raise Http404("No such project among yours.") from None
    can_edit = Project.objects.visible_to(request.user, Capability.MANAGE).filter(
        pk=project.pk).exists()
    return project, can_edit


def _not_owner(request: HttpRequest, project: Project) -> HttpResponse:
    return _refused(request, NotPermitted(
        f"Only the project's owners can change its brand styles; ask an owner of "
        f"{project.name}."), project)


def _initial(style: BrandStyle) -> dict[str, Any]:
    return {**styles.snapshot(style), "reference": str(style.reference_id or "")}


@login_required
@require_http_methods(["GET", "POST"])
def brand_styles(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's styles; owners add one below the list."""
    project, can_edit = _project(request, slug)
    if request.method == "POST" and not can_edit:
        return _not_owner(request, project)
    references = list(styles.approved_images(project)) if can_edit else []
    form = StyleForm(request.POST if request.method == "POST" else None, references=references)
    if request.method == "POST" and form.is_valid():
        try:
            style = styles.create_style(request.user, project, form.service_data())
        except NotPermitted as exc:
            return _refused(request, exc, project)
        except InvalidInput as exc:
            _put_errors(form, exc)
        else:
            messages.info(request, f"Added the style “{style.name}”: creators can pick it "
                                   "for image prompts now.")
            return redirect("portal:brand_styles", project.slug)
    return render(request, "portal/brand_styles.html", {
        "project": project, "can_edit": can_edit, "form": form,
        "styles": list(styles.styles_in(project)),
    }, status=400 if form.is_bound and form.errors else 200)


def _style(request: HttpRequest, slug: str, style_id: int) -> tuple[BrandStyle, bool]:
    project, can_edit = _project(request, slug)
    try:
        return styles.style_of(request.user, project, style_id), can_edit
    except NotFound:
        raise Http404("No such style in this project.") from None


class DeleteForm(forms.Form):
    """Removing needs a tick: a style's name lives on in the jobs made with it."""

    confirm = forms.BooleanField(label="Yes, remove this style",
                                 error_messages={"required": "Tick the box to remove it."})


@login_required
@require_http_methods(["GET", "POST"])
def brand_style(request: HttpRequest, slug: str, style_id: int) -> HttpResponse:
    """One style: owners change it here (members read it)."""
    style, can_edit = _style(request, slug, style_id)
    if request.method == "POST" and not can_edit:
        return _not_owner(request, style.project)
    references = list(styles.approved_images(style.project)) if can_edit else []
    if style.reference is not None and style.reference not in references:
        references.insert(0, style.reference)
    form = StyleForm(request.POST if request.method == "POST" else None,
                     initial=_initial(style), references=references)
    if request.method == "POST" and form.is_valid():
        try:
            styles.update_style(request.user, style, form.service_data())
        except NotPermitted as exc:
            return _refused(request, exc, style.project)
        except InvalidInput as exc:
            _put_errors(form, exc)
        else:
            messages.info(request, f"Saved the style “{form.cleaned_data['name']}”. Jobs "
                                   "already made keep the settings they were made with.")
            return redirect("portal:brand_styles", slug)
    return render(request, "portal/brand_style.html", {
        "project": style.project, "style": style, "can_edit": can_edit, "form": form,
        "delete_form": DeleteForm(),
    }, status=400 if form.is_bound and form.errors else 200)


@login_required
@require_POST
def brand_style_delete(request: HttpRequest, slug: str, style_id: int) -> HttpResponse:
    """Remove a style once the box is ticked, then back to the list."""
    style, can_edit = _style(request, slug, style_id)
    if not can_edit:
        return _not_owner(request, style.project)
    delete_form = DeleteForm(request.POST)
    if not delete_form.is_valid():
        form = StyleForm(initial=_initial(style),
                         references=list(styles.approved_images(style.project)))
        return render(request, "portal/brand_style.html", {
            "project": style.project, "style": style, "can_edit": can_edit, "form": form,
            "delete_form": delete_form}, status=400)
    try:
        styles.delete_style(request.user, style)
    except NotPermitted as exc:
        return _refused(request, exc, style.project)
    messages.info(request, f"Removed the style “{style.name}”.")
    return redirect("portal:brand_styles", slug)
