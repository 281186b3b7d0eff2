"""The generate form's "Style" select: the project's brand styles, for image prompts only.

The form only carries the chosen name; ``governance.review.styled.styled_submission``
resolves it (the same call REST makes), so the portal and the API apply a style alike.
"""

from __future__ import annotations

from typing import Any

from django import forms

from assay.studio.models import PromptVersion
from governance.review.style_models import BrandStyle

__all__ = ("STYLE", "style_field", "style_words")

#: The form field's name and the submission keyword it becomes.
STYLE = "style"


def style_words(style: BrandStyle) -> str:
    """'Autumn (128 × 96 pixels, 12 steps, from a reference image)': the option's text."""
    parts = []
    if style.width and style.height:
        parts.append(f"{style.width} × {style.height} pixels")
    if style.steps:
        parts.append(f"{style.steps} steps")
    if style.reference_id:
        parts.append("from a reference image")
    return style.name + (f" ({', '.join(parts)})" if parts else "")


def style_field(version: PromptVersion, parameters: dict[str, Any] | None) -> forms.Field | None:
    """The select for an image prompt of a project with styles (None otherwise: text,
    audio and video prompts take no style). ``parameters`` from an earlier job preselect
    the style it was made in."""
    if version.modality != "image":
        return None
    styles = list(BrandStyle.objects.filter(project_id=version.template.project_id))
    if not styles:
        return None
    earlier = str((parameters or {}).get(STYLE) or "")
    initial = next((s.name for s in styles if s.name.lower() == earlier.lower()), "")
    field = forms.CharField(
        label="Style", required=False, initial=initial,
        widget=forms.Select(choices=[("", "No style")] + [(s.name, style_words(s))
                                                          for s in styles]),
        help_text="A brand style from the brand kit: it adds its words to the prompt and "
                  "sets the size, refinement and what to leave out (settings you change "
                  "below still win); some start from a reference image.")
    return field
