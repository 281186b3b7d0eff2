"""Prompt templates: create, add immutable versions, move labels."""

from __future__ import annotations

import difflib
import hashlib
import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from assay.accounts.choices import Capability
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import InvalidInput, NotFound, NotPermitted
from assay.core.inputs import clean_text
from assay.core.numbers import parse_id
from assay.core.slugs import clean_slug
from assay.plugins.manager import get_plugins
from assay.studio.guard import label_write
from assay.studio.models import Project, PromptLabel, PromptTemplate, PromptVersion
from assay.studio.rendering import referenced_variables, render
from assay.studio.services.projects import require_capability
from assay.studio.services.protection import is_protected

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
            **_variable_extras(var),
        })
    return clean


def _variable_extras(var: dict[str, Any]) -> dict[str, Any]:
    """Help text and examples for the people filling a variable in (kept only when given,
    so versions written without them keep their exact shape)."""
    extras: dict[str, Any] = {}
    if str(var.get("help", "") or "").strip():
        extras["help"] = str(var["help"])[:500]
    examples = var.get("examples") or []
    if isinstance(examples, str):
        examples = [examples]
    examples = [str(e)[:200] for e in examples if str(e).strip()][:5]
    if examples:
        extras["examples"] = examples
    return extras


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
                    targets: dict[str, Any] | None = None, note: str = "",
                    default_model: str = "") -> PromptTemplate:
    """Create a template with its first version (labelled ``latest``)."""
    require_capability(user, project, Capability.GENERATE, doing="write prompt templates")
    slug = clean_slug(name, slug, noun="template")
    if PromptTemplate.objects.filter(project=project, slug=slug).exists():
        raise InvalidInput(f"Project {project.slug} already has a template {slug!r}.",
                           errors={"slug": ["taken in this project"]})
    template = PromptTemplate.objects.create(project=project, name=name, slug=slug,
                                             description=description, created_by=user)
    record("studio.prompt.created", target=template, actor=actor_for(user))
    add_version(template, user, text=text, variables=variables, generator_id=generator_id,
                default_parameters=default_parameters, targets=targets, note=note,
                default_model=default_model)
    return template


@transaction.atomic
def add_version(template: PromptTemplate, user: Any, *, text: str, variables: list[Any],
                generator_id: str, default_parameters: dict[str, Any] | None = None,
                note: str = "", targets: dict[str, Any] | None = None,
                default_model: str = "") -> PromptVersion:
    """Save a new numbered version and point the ``latest`` label at it.

    ``default_model`` names a registered model; whether the project may use it is checked
    when a generation is submitted (the model registry is in ``assay.generation``).
    """
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
    default_model = clean_text("model", default_model, limit=100, required=False)
    locked = PromptTemplate.objects.select_for_update().get(pk=template.pk)
    number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PromptVersion.objects.create(
        template=template, number=number, text=text, variables=declared,
        modality=generator.modality, generator_id=generator_id, default_model=default_model,
        default_parameters={k: v for k, v in (default_parameters or {}).items() if k in params},
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        note=note[:300], created_by=user, targets=_clean_targets(targets or {}),
    )
    record("studio.prompt_version.created", target=version, actor=actor_for(user),
           data={"number": number, "text_sha256": version.text_sha256})
    move_label(template, user, name="latest", version=version)
    return version


@transaction.atomic
def move_label(template: PromptTemplate, user: Any, *, name: str, version: PromptVersion,
               promotion: Any = None) -> PromptLabel:
    """Point label ``name`` at ``version`` (creating the label if needed).

    A protected label (``assay.studio.services.protection``) moves only when
    ``promotion`` is an approved, not yet applied promotion row for exactly this
    template, label and version: the governance promotion review passes it when it
    approves. Every other caller (REST, portal, commands, owners, admins, tokens) is
    refused, and the label rows themselves refuse writes made around this function
    (``assay.studio.guard``).

    Raises:
        NotFound, NotPermitted: the user may not write prompts here, or the label is
            protected and no matching approved promotion was given.
        InvalidInput: the version belongs to another template.
    """
    # The approver of a promotion is a reviewer (who need not write prompts); every
    # other move needs the right to write prompts.
    promoted = _promotion_allows(promotion, template, name, version)
    require_capability(user, template.project,
                       Capability.REVIEW if promoted else Capability.GENERATE,
                       doing="move prompt labels")
    if version.template_id != template.pk:
        raise InvalidInput("That version belongs to another template.")
    if not promoted and is_protected(template, name):
        raise NotPermitted(
            f"The label {name!r} is protected: it moves only when a promotion to it is "
            "approved. Request a promotion of this version instead.",
            errors={"label": ["protected: request a promotion"]})
    label = PromptLabel.objects.select_for_update().filter(template=template, name=name).first()
    before = label.version.number if label else None
    with label_write():
        if label is None:
            label = PromptLabel.objects.create(template=template, name=name, version=version)
        elif label.version_id != version.pk:
            label.version = version
            label.save(update_fields=["version", "updated_at"])
        else:
            return label
    data = {"label": name, "before": before, "after": version.number}
    if promoted:
        data["promotion"] = promotion.pk
    record("studio.prompt_label.moved", target=label, actor=actor_for(user), data=data)
    return label


def _promotion_allows(promotion: Any, template: PromptTemplate, name: str,
                      version: PromptVersion) -> bool:
    """Whether ``promotion`` is an approved, unapplied row for exactly this move.

    Read again from the database (through the row's own model, which lives in the
    governance layer above this one), so an object built in memory does not pass.
    """
    if promotion is None or getattr(promotion, "pk", None) is None:
        return False
    return type(promotion)._default_manager.filter(
        pk=promotion.pk, template_id=template.pk, label=name, version_id=version.pk,
        status="approved", applied_at__isnull=True).exists()


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


# --- the prompt library's screens and endpoints (REST and portal call these) ------------

#: A label name people can type: lower-case letters, digits, '-' and '_'.
_LABEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
#: The label add_version moves by itself.
LATEST = "latest"


def _check_modality(generator_id: str, modality: str) -> None:
    """A stated modality must be the one the default generator makes."""
    generator = get_plugins().generator(generator_id) if modality else None
    if generator is not None and generator.modality != modality:
        raise InvalidInput(
            f"The default generator makes {generator.modality}, not {modality}: choose a "
            f"generator for {modality}, or leave the kind of output out.",
            errors={"modality": [f"the generator makes {generator.modality}"]})


@transaction.atomic
def write_template(project: Project, user: Any, *, modality: str = "", **fields: Any
                   ) -> PromptTemplate:
    """:func:`create_template`, refusing a stated modality the generator does not make."""
    _check_modality(str(fields.get("generator_id", "")), modality)
    return create_template(project, user, **fields)


@transaction.atomic
def write_version(template: PromptTemplate, user: Any, *, modality: str = "", **fields: Any
                  ) -> PromptVersion:
    """:func:`add_version`, refusing a stated modality the generator does not make."""
    _check_modality(str(fields.get("generator_id", "")), modality)
    return add_version(template, user, **fields)


def preview_prompt(project: Project, user: Any, *, text: str, variables: list[Any],
                   values: dict[str, Any]) -> str:
    """Render unsaved template text with sample values ("Try it"): nothing is stored.

    The same checks as saving (declared variables, syntax) and the same sandbox and bounds
    as a generation, so what the preview shows is what a job would render.
    """
    require_capability(user, project, Capability.GENERATE, doing="try prompt templates")
    declared = _clean_variables(variables)
    undeclared = sorted(referenced_variables(text) - {v["name"] for v in declared})
    if undeclared:
        raise InvalidInput(
            f"The template uses variables it does not declare: {', '.join(undeclared)}.",
            errors={"variables": [f"declare {name}" for name in undeclared]})
    return render(text, declared, values, max_chars=settings.ASSAY_MAX_PROMPT_CHARS,
                  max_variable_chars=settings.ASSAY_MAX_VARIABLE_CHARS)


def find_version(template: PromptTemplate, ref: Any, *, field: str = "version"
                 ) -> PromptVersion:
    """The template's version with id ``ref`` (NotFound naming ``field`` otherwise)."""
    pk = parse_id(ref)
    found = template.versions.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound(f"Template {template.slug} has no version with id {ref}.",
                       errors={field: ["not a version of this template"]})
    return found


def move_label_to(template: PromptTemplate, user: Any, *, name: str, version_ref: Any
                  ) -> PromptLabel:
    """Move (or roll back) label ``name`` to the version with id ``version_ref``.

    ``latest`` follows the newest version by itself and is refused here; every other
    move goes through :func:`move_label`, which holds the rules (protected labels too).
    """
    if not _LABEL_NAME.match(name or ""):
        raise InvalidInput(f"{name!r} is not a label name: use lower-case letters, digits, "
                           "'-' and '_' (at most 40).", errors={"name": ["not a label name"]})
    if name == LATEST:
        raise InvalidInput("The latest label always follows the newest version; move "
                           "another label instead.", errors={"name": ["moves by itself"]})
    version = find_version(template, version_ref)
    return move_label(template, user, name=name, version=version)


def compare_versions(template: PromptTemplate, from_ref: Any, to_ref: Any
                     ) -> dict[str, Any]:
    """Two versions of one template and what changed between them.

    Returns ``old``, ``new``, ``text_diff`` (unified diff lines, for tools) and
    ``changed`` (the names of the other fields that differ). The portal shows the word
    diff instead; both start from these two versions.
    """
    old = find_version(template, from_ref, field="from")
    new = find_version(template, to_ref, field="to")
    lines = list(difflib.unified_diff(old.text.splitlines(), new.text.splitlines(),
                                      f"v{old.number}", f"v{new.number}", lineterm=""))
    fields = ("variables", "modality", "generator_id", "default_parameters", "targets")
    changed = [name for name in fields if getattr(old, name) != getattr(new, name)]
    return {"old": old, "new": new, "text_diff": lines, "changed": changed}
