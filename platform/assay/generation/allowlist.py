"""Which registered models a project may use: its owners choose, submissions obey.

The registry (:mod:`assay.generation.registry`) already answers "may this project use
this model?" from two facts on :class:`RegisteredModel`: ``all_projects`` (set by an admin
at registration: every project may use it) and the ``projects`` many-to-many. Owners edit
only the second, for their own project; a model an admin opened to every project stays
allowed (the page says so), because narrowing it is the admin's call, not one project's.
:func:`choose_model` reads the same rows, so a model taken off the list is refused at the
next submission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from assay.accounts.choices import Capability
from assay.audit.context import actor_for
from assay.audit.registry import register
from assay.audit.services import record
from assay.core.exceptions import InvalidInput
from assay.core.inputs import echo
from assay.generation.models import RegisteredModel
from assay.studio.models import Project
from assay.studio.services.projects import require_capability

register("generation.project_models.updated", "Project models changed",
         "An owner changed which registered models the project may use.")

#: Most model names one request may list (the registry is small; this bounds the message).
MAX_MODELS = 200


@dataclass(frozen=True)
class ModelChoice:
    """One registered model as a project sees it."""

    name: str
    generator_id: str
    description: str
    license: str
    revision: str
    #: An admin allowed it in every project (owners cannot take it off).
    everywhere: bool
    #: This project may use it (``everywhere`` or on the project's list).
    allowed: bool
    is_default: bool


def model_choices(project: Project) -> list[ModelChoice]:
    """Every registered model with whether ``project`` may use it (one query)."""
    listed = set(RegisteredModel.objects.filter(projects=project).values_list("pk", flat=True))
    return [ModelChoice(m.name, m.generator_id, m.description, m.license, m.revision,
                        m.all_projects, m.all_projects or m.pk in listed, m.is_default)
            for m in RegisteredModel.objects.order_by("generator_id", "name")]


def allowed_names(project: Project) -> list[str]:
    """Names of the models ``project`` may use, sorted."""
    return sorted(c.name for c in model_choices(project) if c.allowed)


@transaction.atomic
def set_project_models(user: Any, project: Project, names: Iterable[str]) -> list[str]:
    """Make ``names`` the project's own allow-list; record who changed what.

    Models an admin allowed everywhere may be named or not: they stay allowed. Every name
    must be a registered model, checked before anything changes.

    Returns:
        The names the project may use afterwards.

    Raises:
        NotFound, NotPermitted: not a member, or not an owner.
        InvalidInput: an unknown model name (naming it).
    """
    project = require_capability(user, project, Capability.MANAGE,
                                 doing="choose the project's models")
    wanted = {str(n) for n in names}
    if len(wanted) > MAX_MODELS:
        raise InvalidInput(f"List at most {MAX_MODELS} models.",
                           errors={"models": [f"at most {MAX_MODELS}"]})
    models = {m.name: m for m in RegisteredModel.objects.select_for_update()}
    unknown = sorted(wanted - set(models))
    if unknown:
        shown = ", ".join(repr(echo(n)) for n in unknown[:5])
        raise InvalidInput(f"No registered model {shown}; choose from the registered models.",
                           errors={"models": [f"unknown model {echo(n)!r}" for n in unknown[:5]]})
    before = sorted(RegisteredModel.objects.filter(projects=project).values_list("name",
                                                                                  flat=True))
    after = sorted(n for n in wanted if not models[n].all_projects)
    if before != after:
        for name in set(before) - set(after):
            models[name].projects.remove(project)
        for name in set(after) - set(before):
            models[name].projects.add(project)
        record("generation.project_models.updated", target=project, actor=actor_for(user),
               data={"before": before, "after": after,
                     "everywhere": sorted(n for n, m in models.items() if m.all_projects)})
    return allowed_names(project)
