"""Slugs for things people name (teams, projects): derived from the name or given, always
valid and short enough for their column, so a long or odd name is a 400 and never a 500."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.utils.text import slugify

from assay.core.exceptions import InvalidInput

SLUG_CHARS = 60


def clean_slug(name: str, slug: str = "", *, noun: str, max_length: int = SLUG_CHARS) -> str:
    """``slug`` checked, or one made from ``name`` and cut to ``max_length``."""
    if slug:
        try:
            validate_slug(slug)
        except ValidationError:
            raise InvalidInput(f"A {noun} slug may hold only letters, digits, '-' and '_'.",
                               errors={"slug": ["letters, digits, '-' and '_' only"]}) from None
        if len(slug) > max_length:
            raise InvalidInput(f"A {noun} slug is at most {max_length} characters.",
                               errors={"slug": [f"at most {max_length} characters"]})
        return slug
    made = slugify(name)[:max_length].strip("-_")
    if not made:
        raise InvalidInput(f"A {noun} needs a name with letters or digits.",
                           errors={"name": ["needs letters or digits"]})
    return made
