"""Prompt templates: create, add immutable versions, move labels."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from assay.accounts.choices import Capability
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import InvalidInput, NotFound
from assay.core.numbers import parse_id
from assay.plugins.manager import get_plugins
from assay.studio.models import Project, PromptLabel, PromptTemplate, PromptVersion
from assay.studio.rendering import referenced_variables
from assay.studio.services.projects import require_capability

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


def _clean_variables(variables: list[dict[str, Any]] | list[str]) -> list[dict[str, Any]]:
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw in variables:
        var = {"name": raw} if isinstance(raw, str) else dict(raw)
        name = str(var.get("name", ""))
        if not _IDENTIFIER.match(name):
            raise InvalidInput(f"Variable name {name!r} must be a Python-style identifier.",
                               errors={"variables": [f"{name!r} is not an identifier"]})
        if name in seen:
            raise InvalidInput(f"Variable {name!r} is declared twice.",
                               errors={"variables": [f"{name!r} declared twice"]})
        seen.add(name)
        clean.append({
            "name": name,
            "description": str(var.get("description", ""))[:300],
            "required": bool(var.get("required", True)),
            "default": str(var.get("default", "") or ""),
        })
    return clean


_TARGETS = {"min_words": (int, 1, 100_000), "max_words": (int, 1, 100_000),
            "max_grade": (float, 0, 30)}


def _clean_targets(targets: dict[str, Any]) -> dict[str, Any]:
    """Length and readability targets the checks measure the output against."""
    clean: dict[str, Any] = {}
    for name, value in targets.items():
        if name not in _TARGETS:
            raise InvalidInput(f"Unknown target {name!r} (use {', '.join(_TARGETS)}).",
                               errors={f"targets.{name}": ["unknown target"]})
        kind, low, high = _TARGETS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not low <= value <= high:
            raise InvalidInput(f"Target {name} must be a number from {low} to {high}.",
                               errors={f"targets.{name}": ["out of range"]})
        clean[name] = kind(value)
    if clean.get("min_words", 0) > clean.get("max_words", 10**9):
        raise InvalidInput("min_words is larger than max_words.",
                           errors={"targets.min_words": ["larger than max_words"]})
    return clean


@transaction.atomic
def create_template(project: Project, user: Any, *, name: str, text: str,
                    variables: list[Any], generator_id: str, slug: str = "",
                    description: str = "", default_parameters: dict[str, Any] | None = None,
                    targets: dict[str, Any] | None = None) -> PromptTemplate:
    """Create a template with its first version (labelled ``latest``)."""
    require_capability(user, project, Capability.GENERATE, doing="write prompt templates")
    slug = slug or slugify(name)
    if not slug:
        raise InvalidInput("A template needs a name with letters or digits.")
    if PromptTemplate.objects.filter(project=project, slug=slug).exists():
        raise InvalidInput(f"Project {project.slug} already has a template {slug!r}.",
                           errors={"slug": ["taken in this project"]})
    template = PromptTemplate.objects.create(project=project, name=name, slug=slug,
                                             description=description, created_by=user)
    record("studio.prompt.created", target=template, actor=actor_for(user))
    add_version(template, user, text=text, variables=variables, generator_id=generator_id,
                default_parameters=default_parameters, targets=targets)
    return template


@transaction.atomic
def add_version(template: PromptTemplate, user: Any, *, text: str, variables: list[Any],
                generator_id: str, default_parameters: dict[str, Any] | None = None,
                note: str = "", targets: dict[str, Any] | None = None) -> PromptVersion:
    """Save a new numbered version and point the ``latest`` label at it."""
    require_capability(user, template.project, Capability.GENERATE,
                       doing="write prompt templates")
    declared = _clean_variables(variables)
    used = referenced_variables(text)
    undeclared = sorted(used - {v["name"] for v in declared})
    if undeclared:
        raise InvalidInput(
            f"The template uses variables it does not declare: {', '.join(undeclared)}.",
            errors={"variables": [f"declare {name}" for name in undeclared]},
        )
    generator = get_plugins().generator(generator_id)
    if generator is None:
        raise InvalidInput(f"No generator {generator_id!r} is installed.",
                           errors={"generator": ["unknown generator"]})
    params, errors = generator.validate_parameters(default_parameters or {})
    if errors:
        raise InvalidInput("Default parameters are out of bounds.", errors={
            f"parameters.{k}": [v] for k, v in errors.items()})
    locked = PromptTemplate.objects.select_for_update().get(pk=template.pk)
    number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PromptVersion.objects.create(
        template=template, number=number, text=text, variables=declared,
        modality=generator.modality, generator_id=generator_id,
        default_parameters={k: v for k, v in (default_parameters or {}).items() if k in params},
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        note=note[:300], created_by=user, targets=_clean_targets(targets or {}),
    )
    record("studio.prompt_version.created", target=version, actor=actor_for(user),
           data={"number": number, "text_sha256": version.text_sha256})
    move_label(template, user, name="latest", version=version)
    return version


@transaction.atomic
def move_label(template: PromptTemplate, user: Any, *, name: str, version: PromptVersion
               ) -> PromptLabel:
    """Point label ``name`` at ``version`` (creating the label if needed)."""
    require_capability(user, template.project, Capability.GENERATE, doing="move prompt labels")
    if version.template_id != template.pk:
        raise InvalidInput("That version belongs to another template.")
    label = PromptLabel.objects.select_for_update().filter(template=template, name=name).first()
    before = label.version.number if label else None
    if label is None:
        label = PromptLabel.objects.create(template=template, name=name, version=version)
    elif label.version_id != version.pk:
        label.version = version
        label.save(update_fields=["version", "updated_at"])
    else:
        return label
    record("studio.prompt_label.moved", target=label, actor=actor_for(user),
           data={"label": name, "before": before, "after": version.number})
    return label


def resolve_version(project: Project, *, version_id: Any = None, template_ref: Any = None,
                    label: str | None = None, number: Any = None) -> PromptVersion:
    """Find the prompt version a submission names, inside ``project``.

    Either ``version_id``, or a template (id or slug) with a label or a version number
    (default: the ``latest`` label). The caller has already checked the user's access.
    """
    versions = PromptVersion.objects.filter(template__project=project).select_related(
        "template", "template__project")
    if version_id not in (None, ""):
        pk = parse_id(version_id)
        found = versions.filter(pk=pk).first() if pk is not None else None
        if found is None:
            raise NotFound(f"Project {project.slug} has no prompt version {version_id}.",
                           errors={"prompt_version": ["not found in this project"]})
        return found
    if template_ref in (None, ""):
        raise InvalidInput("Name a prompt version, or a template with a label or number.",
                           errors={"prompt_version": ["this field is required"]})
    templates = PromptTemplate.objects.filter(project=project)
    template = (templates.filter(pk=parse_id(template_ref)).first()
                if parse_id(template_ref) is not None
                else templates.filter(slug=template_ref).first())
    if template is None:
        raise NotFound(f"Project {project.slug} has no prompt template {template_ref}.",
                       errors={"template": ["not found in this project"]})
    if number not in (None, ""):
        found = versions.filter(template=template, number=number).first()
        if found is None:
            raise NotFound(f"Template {template.slug} has no version {number}.",
                           errors={"version": ["not found"]})
        return found
    label_obj = template.labels.filter(name=label or "latest").first()
    if label_obj is None:
        raise NotFound(f"Template {template.slug} has no label {label or 'latest'!r}.",
                       errors={"label": ["not found"]})
    return versions.get(pk=label_obj.version_id)
