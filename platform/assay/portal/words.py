"""Names of plugin things in words, shared by the portal's forms and template filters."""

from __future__ import annotations

from assay.plugins.contracts import Generator
from assay.plugins.manager import get_plugins

__all__ = ("generator_label", "generator_words", "variables_words")


def generator_label(cls: type[Generator]) -> str:
    """A generator in words: its ``label`` if it has one, else its description's first
    clause (never its id, which pages keep behind a details fold)."""
    label = str(getattr(cls, "label", "") or "")
    if not label:
        label = (cls.description or "").split(";")[0].strip().rstrip(".")
    return label or cls.id.replace("-", " ").replace("_", " ").capitalize()


def generator_words(generator_id: str) -> str:
    """An installed generator's label; one that is gone says so instead of its id."""
    cls = get_plugins().generators.get(generator_id)
    return generator_label(cls) if cls is not None else "A generator that is no longer installed"


def variables_words(variables: object, limit: int = 80) -> str:
    """A job's variable values as a short phrase ("Rocket Soap, busy teams"), so rows of
    the same template can be told apart."""
    if not isinstance(variables, dict):
        return ""
    text = ", ".join(str(v).strip() for v in variables.values() if str(v).strip())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
