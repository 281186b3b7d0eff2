"""Applying a brand style to a submission: what the faces call instead of submit_generation.

The domain may not import governance, and does not need to: the person picks the style at
a face (REST or portal), and a face may call governance. So the faces call
:func:`styled_submission`, which resolves the style into plain inputs of
``assay.generation.services.submit_generation`` and calls it:

- ``prompt_additions``: appended to the rendered prompt (the domain bounds the total);
- ``parameters``: the style's ``width``, ``height`` and ``steps`` (only those the chosen
  generator declares), its negative prompt joined with the creator's, and its ``strength``
  with a reference. Precedence, lowest first: the generator's defaults, the prompt
  version's, the style's, what the creator sent;
- ``parent_asset``: the style's reference image (still approved), for image-to-image;
- ``style``: the style's name, which the job records as ``parameters["style"]`` and the
  provenance manifest carries (the reference travels as the parent ingredient).

Without a style it is exactly ``submit_generation``.
"""

from __future__ import annotations

from typing import Any

from assay.accounts.choices import Capability
from assay.core.exceptions import InvalidInput
from assay.core.inputs import echo
from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from assay.plugins.manager import get_plugins
from assay.studio.models import Project
from assay.studio.services.projects import require_capability
from assay.studio.services.prompts import resolve_version
from governance.review.style_models import BrandStyle
from governance.review.styles import NAME_CHARS, is_approved_image

__all__ = ("style_by_name", "style_parameters", "styled_submission")


def style_by_name(project: Project, name: Any) -> BrandStyle:
    """The project's style called ``name`` (any case), or InvalidInput naming the others."""
    text = str(name).strip() if isinstance(name, str) else ""
    found = (BrandStyle.objects.filter(project=project, name__iexact=text)
             .select_related("reference").first()
             if text and len(text) <= NAME_CHARS else None)
    if found is None:
        names = list(BrandStyle.objects.filter(project=project).values_list("name", flat=True))
        known = ", ".join(names) or "none defined yet"
        raise InvalidInput(f"No brand style {echo(name)!r} in project {project.slug} "
                           f"(styles: {known}).",
                           errors={"style": [f"unknown; styles: {known}"]})
    return found


def style_parameters(style: BrandStyle, declared: set[str],
                     given: dict[str, Any]) -> dict[str, Any]:
    """The parameters to submit: the style's under the creator's ``given`` ones, and the
    style's negative prompt before the creator's. Only names in ``declared`` (the
    generator's schema) are added, so another image generator gets nothing it refuses."""
    merged: dict[str, Any] = {}
    for key in ("width", "height", "steps"):
        value = getattr(style, key)
        if value is not None and key in declared:
            merged[key] = value
    if style.reference_id and "strength" in declared:
        merged["strength"] = style.strength
    merged.update(given)
    if style.negative_prompt and "negative_prompt" in declared:
        theirs = given.get("negative_prompt")
        parts = [style.negative_prompt, *([str(theirs).strip()] if theirs not in (None, "")
                                          else [])]
        merged["negative_prompt"] = ", ".join(p for p in parts if p)
    return merged


def styled_submission(user: Any, *, project: Any, style: Any = None,
                      **submission: Any) -> GenerationJob:
    """Submit a generation with the named brand style applied (or plainly, without one).

    ``submission`` holds ``submit_generation``'s other keyword arguments. Refused with
    InvalidInput (under the key ``style``) when the style is unknown in the project, the
    prompt version does not make images, or the style's reference is no longer approved;
    under ``parent_asset`` when another starting image was named too.
    """
    if style in (None, ""):
        return submit_generation(user, project=project, **submission)
    found = require_capability(user, project, Capability.GENERATE, doing="submit generations")
    chosen = style_by_name(found, style)
    prompt = resolve_version(found, version_id=submission.get("prompt_version"),
                             template_ref=submission.get("template"),
                             label=submission.get("label"), number=submission.get("version"))
    generator_cls = get_plugins().generator(submission.get("generator") or prompt.generator_id)
    given = submission.pop("parameters", None) or {}
    if generator_cls is None or not isinstance(given, dict):
        # Let the domain refuse it in its own words (unknown generator, bad parameters).
        return submit_generation(user, project=found, parameters=given, **submission)
    if generator_cls.modality != "image" or prompt.modality != "image":
        raise InvalidInput(f"Brand styles apply to images; this prompt version makes "
                           f"{prompt.modality}. Leave the style out.",
                           errors={"style": ["only for image prompts"]})
    if chosen.reference_id:
        asked = submission.get("parent_asset")
        if asked not in (None, "") and str(asked) != str(chosen.reference_id):
            raise InvalidInput(f"The style “{chosen.name}” starts from its own reference "
                               "image; leave out the starting image or the style.",
                               errors={"parent_asset": ["the style sets the starting image"]})
        if not is_approved_image(chosen.reference):
            raise InvalidInput(f"The reference image of the style “{chosen.name}” is no "
                               "longer approved; ask an owner to choose another.",
                               errors={"style": ["reference image not approved"]})
        submission["parent_asset"] = str(chosen.reference_id)
    declared = {p.name for p in generator_cls.all_parameters()}
    return submit_generation(user, project=found,
                             parameters=style_parameters(chosen, declared, given),
                             prompt_additions=chosen.prompt_additions, style=chosen.name,
                             **submission)
