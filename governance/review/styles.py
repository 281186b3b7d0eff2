"""Owners define the brand kit's named image styles; members read them to pick one.

Each write checks the owner's capability, cleans the input against the same bounds the
image generator's parameters have (``plugins/image_diffusers``: size 64 to 1024 pixels in
multiples of 8, 1 to 100 refinement steps, strength 0.05 to 1, 1000 characters of negative
prompt), checks a reference image is an approved image of the same project, then writes
in one transaction with its audit event. REST and the portal both call these;
``governance.review.styled`` applies a style to a submission.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from assay.accounts.choices import Capability
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import InvalidInput, NotFound
from assay.core.inputs import echo, text_problem
from assay.studio.models import Asset, Project
from assay.studio.services.assets import project_asset
from assay.studio.services.projects import require_capability
from governance.review.choices import ReviewStatus
from governance.review.models import Review
from governance.review.style_models import BrandStyle

__all__ = (
    "FIELDS",
    "approved_images",
    "clean_style",
    "create_style",
    "delete_style",
    "is_approved_image",
    "managed_project",
    "snapshot",
    "style_of",
    "styles_in",
    "styles_of",
    "update_style",
)

NAME_CHARS = 60
DESCRIPTION_CHARS = 300
ADDITION_CHARS = 1000
NEGATIVE_CHARS = 1000  # the image generator's negative_prompt max_length
SIZE_MIN, SIZE_MAX, SIZE_MULTIPLE = 64, 1024, 8
STEPS_MIN, STEPS_MAX = 1, 100
STRENGTH_MIN, STRENGTH_MAX = 0.05, 1.0
#: Approved images offered as references on the portal (REST takes any approved id).
REFERENCE_CHOICES = 50
FIELDS = ("name", "description", "prompt_additions", "negative_prompt", "width", "height",
          "steps", "reference", "strength")
DOING = "manage the brand styles"


def managed_project(user: Any, project: Any) -> Project:
    """The project, if ``user`` may change its styles (NotFound, NotPermitted if not):
    faces ask first, so an outsider's bad input is a 404, not a 400 about the input."""
    return require_capability(user, project, Capability.MANAGE, doing=DOING)


def styles_in(project: Project) -> QuerySet[BrandStyle]:
    """The project's styles by name, their reference images joined."""
    return (BrandStyle.objects.filter(project=project)
            .select_related("project", "reference"))


def styles_of(user: Any, project: Any) -> QuerySet[BrandStyle]:
    """The styles of a project ``user`` can see (every member: creators pick from them)."""
    return styles_in(require_capability(user, project, Capability.VIEW,
                                        doing="see the brand styles"))


def style_of(user: Any, project: Any, style_id: Any) -> BrandStyle:
    """One style of the project, or NotFound (for a malformed id too)."""
    found = None
    if str(style_id).isdigit() and len(str(style_id)) < 19:  # fits a bigint
        found = styles_of(user, project).filter(pk=int(style_id)).first()
    if found is None:
        raise NotFound(f"No brand style {echo(style_id)} in this project.")
    return found


def is_approved_image(asset: Asset) -> bool:
    """Whether this exact image version was approved: a review of its current content
    finished ``approved`` (an edit makes a new asset, so content never changes under it)."""
    return asset.kind == "image" and Review.objects.filter(
        asset=asset, content_sha256=asset.sha256, status=ReviewStatus.APPROVED).exists()


def approved_images(project: Project) -> QuerySet[Asset]:
    """The project's approved images, newest first: what a style may start from."""
    approved = Review.objects.filter(project=project, status=ReviewStatus.APPROVED,
                                     asset__kind="image").values("asset_id")
    return (Asset.objects.filter(project=project, kind="image", pk__in=approved)
            .order_by("-created_at")[:REFERENCE_CHOICES])


# --- cleaning ------------------------------------------------------------------------------
def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    value = "" if value is None else value
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be text.", errors={key: ["not text"]})
    value = value.strip()
    problem = text_problem(value)
    if problem:
        raise InvalidInput(f"{key}: {problem}", errors={key: ["not storable text"]})
    if len(value) > limit:
        raise InvalidInput(f"{key} is {len(value)} characters; the limit is {limit}.",
                           errors={key: [f"at most {limit} characters"]})
    return value


def _whole(data: dict[str, Any], key: str, low: int, high: int, *,
           multiple: int = 1) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{key} must be a whole number from {low} to {high}.",
                           errors={key: ["not a whole number"]})
    if not low <= value <= high:
        raise InvalidInput(f"{key} must be from {low} to {high} (got {value}).",
                           errors={key: [f"must be from {low} to {high}"]})
    if value % multiple:
        lower = value - value % multiple
        raise InvalidInput(f"{key} must be a multiple of {multiple} (got {value}; try {lower} "
                           f"or {lower + multiple}).",
                           errors={key: [f"must be a multiple of {multiple}"]})
    return value


def _strength(data: dict[str, Any]) -> float:
    value = data.get("strength")
    if value in (None, ""):
        return 0.6
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput("strength must be a number.", errors={"strength": ["not a number"]})
    if not STRENGTH_MIN <= value <= STRENGTH_MAX:
        raise InvalidInput(f"strength must be from {STRENGTH_MIN} to {STRENGTH_MAX} "
                           f"(got {value}).",
                           errors={"strength": [f"must be from {STRENGTH_MIN} to "
                                                f"{STRENGTH_MAX}"]})
    return float(value)


def _reference(project: Project, ref: Any) -> Asset | None:
    """The style's reference: an approved image asset of the same project, or None."""
    asset = project_asset(project, ref, field="reference", kinds=("image",),
                          label="The reference image", kind_label="The reference")
    if asset is None:
        return None
    if not is_approved_image(asset):
        raise InvalidInput("The reference image must be approved first: only an approved "
                           "image may set the look of new ones.",
                           errors={"reference": ["not approved"]})
    return asset


def _name(project: Project, data: dict[str, Any], current: BrandStyle | None) -> str:
    name = _text(data, "name", NAME_CHARS)
    if not name:
        raise InvalidInput("Give the style a name, e.g. “Autumn campaign”.",
                           errors={"name": ["required"]})
    taken = BrandStyle.objects.filter(project=project, name__iexact=name)
    if current is not None:
        taken = taken.exclude(pk=current.pk)
    if taken.exists():
        raise InvalidInput(f"Project {project.slug} already has a style named “{name}”.",
                           errors={"name": ["already used in this project"]})
    return name


def clean_style(project: Project, data: dict[str, Any], *,
                current: BrandStyle | None = None) -> dict[str, Any]:
    """The style's fields to write, checked. With ``current``, fields absent from ``data``
    keep their values (a partial change); without it, absent fields take their defaults.
    The portal's form and REST's input both go through here."""
    if not isinstance(data, dict):
        raise InvalidInput("Send the style as an object.", errors={"style": ["not an object"]})
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown style fields: {echo(', '.join(unknown))} (known: "
                           f"{', '.join(FIELDS)}).", errors={k: ["unknown field"] for k in unknown})
    if current is not None:
        data = {**snapshot(current), **data}
    return {
        "name": _name(project, data, current),
        "description": _text(data, "description", DESCRIPTION_CHARS),
        "prompt_additions": _text(data, "prompt_additions", ADDITION_CHARS),
        "negative_prompt": _text(data, "negative_prompt", NEGATIVE_CHARS),
        "width": _whole(data, "width", SIZE_MIN, SIZE_MAX, multiple=SIZE_MULTIPLE),
        "height": _whole(data, "height", SIZE_MIN, SIZE_MAX, multiple=SIZE_MULTIPLE),
        "steps": _whole(data, "steps", STEPS_MIN, STEPS_MAX),
        "reference": _reference(project, data.get("reference")),
        "strength": _strength(data),
    }


def snapshot(style: BrandStyle) -> dict[str, Any]:
    """The style as plain data: what audit events record (the reference as its id)."""
    return {"name": style.name, "description": style.description,
            "prompt_additions": style.prompt_additions,
            "negative_prompt": style.negative_prompt, "width": style.width,
            "height": style.height, "steps": style.steps,
            "reference": (str(style.reference_id) if style.reference_id else None),
            "strength": style.strength}


# --- writing -------------------------------------------------------------------------------
def _save(style: BrandStyle) -> None:
    """Save; a concurrent save of the same name loses with the message a check gives."""
    try:
        with transaction.atomic():
            style.save()
    except IntegrityError:
        raise InvalidInput(f"Project {style.project.slug} already has a style named "
                           f"“{style.name}”.",
                           errors={"name": ["already used in this project"]}) from None


def create_style(user: Any, project: Any, data: dict[str, Any]) -> BrandStyle:
    """Add a style to the project's brand kit (owners only)."""
    found = managed_project(user, project)
    clean = clean_style(found, data)
    with transaction.atomic():
        style = BrandStyle(project=found, created_by=user, **clean)
        _save(style)
        record("review.style.created", target=style, actor=actor_for(user),
               data={"after": snapshot(style)})
    return style


def update_style(user: Any, style: BrandStyle, data: dict[str, Any]) -> BrandStyle:
    """Change the fields sent (owners only); jobs already made keep what they were made with."""
    managed_project(user, style.project)
    with transaction.atomic():
        style = BrandStyle.objects.select_for_update().select_related("project").get(
            pk=style.pk)
        before = snapshot(style)
        clean = clean_style(style.project, data, current=style)
        for key, value in clean.items():
            setattr(style, key, value)
        _save(style)
        record("review.style.updated", target=style, actor=actor_for(user),
               data={"before": before, "after": snapshot(style)})
    return style


def delete_style(user: Any, style: BrandStyle) -> None:
    """Remove a style (owners only); jobs made with it keep its name in their parameters."""
    managed_project(user, style.project)
    with transaction.atomic():
        before = snapshot(style)
        record("review.style.deleted", target=style, actor=actor_for(user),
               data={"before": before})
        style.delete()
