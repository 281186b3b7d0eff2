"""Protected labels and golden sets: what an owner marks, and what a promotion is tried on.

A protected label moves only through ``move_label(..., promotion=...)`` with an approved,
not yet applied promotion for exactly that template, label and version; the promotion
review lives in ``governance.review.promotion``. Owners (``manage``) protect and
unprotect names; anyone who writes prompts (``generate``) keeps the golden set.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from assay.accounts.choices import Capability
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import InvalidInput, NotFound
from assay.core.numbers import parse_id
from assay.studio.models import GoldenSet, Project, PromptTemplate, ProtectedLabel
from assay.studio.services.projects import require_capability

__all__ = ("GOLDEN_SET_MAX", "golden_samples", "is_protected", "protect_label",
           "protections_for", "save_golden_set", "unprotect_label")

#: Most sample variable sets one golden set holds (each is two generations per promotion).
GOLDEN_SET_MAX = 10
_LABEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
#: Moves by itself on every new version, so it cannot wait for a review.
UNPROTECTABLE = frozenset({"latest"})


def is_protected(template: PromptTemplate, name: str) -> bool:
    """Whether ``name`` on ``template`` moves only through a promotion review."""
    return ProtectedLabel.objects.filter(
        Q(template=template) | Q(template__isnull=True),
        project_id=template.project_id, name=name).exists()


def protections_for(project: Project) -> QuerySet[ProtectedLabel]:
    """The project's protected names (project-wide and per template)."""
    return ProtectedLabel.objects.filter(project=project).select_related("template")


def _template_in(project: Project, template_ref: Any) -> PromptTemplate | None:
    if template_ref in (None, ""):
        return None
    pk = parse_id(template_ref)
    templates = PromptTemplate.objects.filter(project=project)
    found = (templates.filter(pk=pk) if pk is not None
             else templates.filter(slug=str(template_ref))).first()
    if found is None:
        raise NotFound(f"Project {project.slug} has no prompt template {template_ref}.",
                       errors={"template": ["not found in this project"]})
    return found


@transaction.atomic
def protect_label(project: Any, user: Any, *, name: str, template: Any = None
                  ) -> ProtectedLabel:
    """Mark label ``name`` protected on one template (or, without one, project-wide).

    Raises:
        NotFound, NotPermitted: not an owner of the project, or no such template.
        InvalidInput: a malformed name, ``latest``, or already protected.
    """
    found = require_capability(user, project, Capability.MANAGE, doing="protect prompt labels")
    name = str(name or "").strip()
    if not _LABEL.match(name):
        raise InvalidInput("A label name is 1 to 40 lower-case letters, digits, - or _.",
                           errors={"name": ["use letters, digits, - or _"]})
    if name in UNPROTECTABLE:
        raise InvalidInput(f"The label {name!r} moves by itself with every new version, so "
                           "it cannot be protected.", errors={"name": ["moves by itself"]})
    target = _template_in(found, template)
    if ProtectedLabel.objects.filter(project=found, template=target, name=name).exists():
        where = f"template {target.name}" if target else "this project"
        raise InvalidInput(f"{name!r} is already protected on {where}.",
                           errors={"name": ["already protected"]})
    row = ProtectedLabel.objects.create(project=found, template=target, name=name,
                                        created_by=user)
    record("studio.prompt_label.protected", target=row, actor=actor_for(user),
           data={"label": name, "template": target.slug if target else None})
    return row


@transaction.atomic
def unprotect_label(project: Any, user: Any, *, protection_id: Any) -> None:
    """Lift a protection (owners only); the label then moves by hand again."""
    found = require_capability(user, project, Capability.MANAGE,
                               doing="lift label protections")
    row = ProtectedLabel.objects.select_related("template").filter(
        project=found, pk=parse_id(protection_id) or 0).first()
    if row is None:
        raise NotFound(f"Project {found.slug} has no protected label {protection_id}.",
                       errors={"protection": ["not found in this project"]})
    data = {"label": row.name, "template": row.template.slug if row.template else None}
    record("studio.prompt_label.unprotected", target=row, actor=actor_for(user), data=data)
    row.delete()


def golden_samples(template: PromptTemplate) -> list[dict[str, str]]:
    """The template's saved sample variable sets (empty when none were saved)."""
    row = GoldenSet.objects.filter(template=template).first()
    return list(row.samples) if row else []


def _clean_samples(samples: Any) -> list[dict[str, str]]:
    if not isinstance(samples, list):
        raise InvalidInput("'samples' must be a list of variable sets (name → value).",
                           errors={"samples": ["must be a list"]})
    if len(samples) > GOLDEN_SET_MAX:
        raise InvalidInput(f"A golden set holds at most {GOLDEN_SET_MAX} samples.",
                           errors={"samples": [f"at most {GOLDEN_SET_MAX}"]})
    limit = settings.ASSAY_MAX_VARIABLE_CHARS
    clean = []
    for i, sample in enumerate(samples, start=1):
        if not isinstance(sample, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in sample.items()):
            raise InvalidInput(f"Sample {i} must map variable names to text.",
                               errors={f"samples.{i}": ["must map names to text"]})
        if any(len(v) > limit for v in sample.values()):
            raise InvalidInput(f"Sample {i} has a value longer than {limit} characters.",
                               errors={f"samples.{i}": [f"at most {limit} characters"]})
        clean.append(dict(sample))
    return clean


@transaction.atomic
def save_golden_set(template: PromptTemplate, user: Any, *, samples: Any) -> GoldenSet:
    """Replace the template's golden set (people who write prompts keep it)."""
    require_capability(user, template.project, Capability.GENERATE,
                       doing="edit a template's golden set")
    clean = _clean_samples(samples)
    row, _ = GoldenSet.objects.select_for_update().get_or_create(
        template=template, defaults={"samples": clean, "updated_by": user})
    before = len(row.samples)
    row.samples, row.updated_by = clean, user
    row.save(update_fields=["samples", "updated_by", "updated_at"])
    record("studio.golden_set.saved", target=row, actor=actor_for(user),
           data={"before": before, "after": len(clean), "template": template.slug})
    return row
