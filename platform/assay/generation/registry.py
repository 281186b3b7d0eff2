"""Registering models and choosing the model a submission may use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q

from assay.audit.services import record
from assay.core.exceptions import InvalidInput, NotPermitted
from assay.generation.models import ModelSource, RegisteredModel
from assay.plugins.contracts import Generator, ModelRef
from assay.plugins.manager import get_plugins
from assay.plugins.modelfiles import folder_revision


@transaction.atomic
def register_model(*, name: str, generator_id: str, source: str, license: str,
                   revision: str | None = None, projects: list[Any] | None = None,
                   all_projects: bool = False, is_default: bool = False,
                   description: str = "", user: Any = None) -> RegisteredModel:
    """Register (or re-pin) a model for a generator.

    A local folder is hashed now; a given revision for it must match. A hub id needs a
    revision (a commit or tag), because an unpinned id can change under a deployment.
    """
    if get_plugins().generator(generator_id) is None:
        raise InvalidInput(f"No generator {generator_id!r} is installed.",
                           errors={"generator": ["unknown generator"]})
    folder = Path(source)
    if folder.is_dir():
        kind, actual = ModelSource.LOCAL, folder_revision(folder)
        if revision and revision != actual:
            raise InvalidInput(f"The folder's content hash is {actual}, not {revision}.",
                               errors={"revision": ["does not match the folder"]})
        source, revision = str(folder.resolve()), actual
    elif source.startswith(("/", ".")):
        raise InvalidInput(f"No model folder at {source}.", errors={"source": ["not found"]})
    else:
        kind = ModelSource.HUB
        if not revision:
            raise InvalidInput("A hub model needs --revision (a commit hash or tag) so the "
                               "deployment cannot change under you.",
                               errors={"revision": ["required for hub models"]})
    existing = RegisteredModel.objects.select_for_update().filter(name=name).first()
    before = {"source": existing.source, "revision": existing.revision} if existing else None
    model = existing or RegisteredModel(name=name)
    model.generator_id, model.source_kind, model.source = generator_id, kind, source
    model.revision, model.license, model.description = revision, license, description
    model.all_projects, model.is_default = all_projects, is_default
    model.created_by = model.created_by or user
    model.save()
    if projects is not None:
        model.projects.set(projects)
    if is_default:
        RegisteredModel.objects.filter(generator_id=generator_id, is_default=True).exclude(
            pk=model.pk).update(is_default=False)
    record("generation.model.registered", target=model, data={
        "generator": generator_id, "source": source, "revision": revision,
        "projects": sorted(p.slug for p in model.projects.all()), "all_projects": all_projects,
        "before": before})
    return model


def choose_model(project: Any, generator_cls: type[Generator], name: str | None,
                 models_dir: str) -> ModelRef:
    """The model a submission will run: the named one if the project may use it, else the
    generator's default registered model, else the generator's built-in default.

    Raises:
        InvalidInput: unknown model, or a model of another generator.
        NotPermitted: the project may not use that model.
    """
    allowed = RegisteredModel.objects.filter(generator_id=generator_cls.id).filter(
        Q(all_projects=True) | Q(projects=project)).distinct()
    if name:
        model = RegisteredModel.objects.filter(name=name).first()
        if model is None:
            raise InvalidInput(f"No registered model {name!r}.", errors={"model": ["unknown"]})
        if model.generator_id != generator_cls.id:
            raise InvalidInput(f"Model {name} is for generator {model.generator_id}, not "
                               f"{generator_cls.id}.", errors={"model": ["wrong generator"]})
        if not allowed.filter(pk=model.pk).exists():
            raise NotPermitted(f"Project {project.slug} may not use model {name}; an admin can "
                               "allow it with `manage.py register_model`.",
                               errors={"model": ["not allowed in this project"]})
        return model.ref()
    chosen = allowed.order_by("-is_default", "name").first()
    if chosen is not None:
        return chosen.ref()
    if RegisteredModel.objects.filter(generator_id=generator_cls.id).exists():
        raise NotPermitted(f"No model of generator {generator_cls.id} is allowed in project "
                           f"{project.slug}.", errors={"model": ["none allowed here"]})
    fallback = generator_cls.default_model(models_dir)
    if fallback is None:
        raise InvalidInput(f"Generator {generator_cls.id} has no model; register one.",
                           errors={"model": ["no model available"]})
    return fallback


def default_model_is_demo(project: Any, generator_cls: type[Generator], models_dir: str) -> bool:
    """True when a submission without a model would run a locally built stand-in model.

    The portal uses this to say plainly that demo image models produce noise. Stand-ins
    are named ``assay-demo-*``; a real model that Assay converts locally (SmolLM2, the
    default text model) is not one, so text output needs no apology.
    """
    try:
        ref = choose_model(project, generator_cls, None, models_dir)
    except (InvalidInput, NotPermitted):
        return False
    return (ref.name or "").startswith("assay-demo")
