"""Building every plugin's demo models (the embedded default has no model hub)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from assay.audit.context import Actor, audit_context
from assay.audit.services import record
from assay.generation.models import RegisteredModel
from assay.generation.registry import register_model
from assay.plugins.contracts import Generator, ModelRef
from assay.plugins.manager import get_plugins
from assay.plugins.modelfiles import folder_revision, read_stamp

DEMO_LICENCE = "Demo model built locally by Assay; no licence restrictions."  # unstamped
DEMO_DESCRIPTION = "Small local demo model (no model hub needed)."


def build_demo_models(*, force: bool = False, models_dir: Path | None = None,
                      register: bool = True) -> list[str]:
    """Ask each plugin to build its demo models; returns the names built or found.

    With ``register`` (the default) each generator's demo models that now exist are
    registered for all projects, pinned by their content hash, the generator's default
    model as the registered default (for text: SmolLM2-135M-Instruct once converted).
    """
    target = Path(models_dir or settings.ASSAY_MODELS_DIR)
    target.mkdir(parents=True, exist_ok=True)
    results = get_plugins().pm.hook.build_demo_models(models_dir=str(target), force=force)
    names = sorted(name for result in results for name in (result or []))
    if register:
        with audit_context(actor=Actor.system("build_demo_models")):
            record("generation.models.built", data={"models": names, "folder": str(target),
                                                     "force": force})
            _register_demo_models(target)
    return names


def demo_refs(cls: type[Generator], target: Path) -> list[ModelRef]:
    """A generator's demo models that exist under ``target``, the default one last.

    A generator may build several (the text plugin: SmolLM2 and the tiny test model) and
    lists them with ``Generator.demo_models``.
    """
    default = cls.default_model(str(target))
    refs = [ref for ref in cls.demo_models(str(target)) if ref != default]
    refs += [default] if default else []
    return [ref for ref in refs if Path(ref.source).is_dir()]


def _register_demo_models(target: Path) -> None:
    """Register each generator's demo models that now exist on disk, for all projects;
    the generator's default model is the registered default.

    Re-registering re-pins the content hash, so a rebuilt demo model is recorded as the
    new revision it is; a model whose pin and default flag are unchanged is left alone.
    """
    for generator_id, cls in sorted(get_plugins().generators.items()):
        refs = demo_refs(cls, target)
        for position, ref in enumerate(refs):
            name = ref.name or generator_id
            is_default = position == len(refs) - 1
            existing = RegisteredModel.objects.filter(name=name).first()
            if existing and existing.source == str(Path(ref.source).resolve()) and \
                    existing.revision == folder_revision(Path(ref.source)) and \
                    existing.is_default == is_default:
                continue
            stamp: dict[str, Any] = read_stamp(ref.source) or {}
            register_model(name=name, generator_id=generator_id, source=ref.source,
                           all_projects=True, is_default=is_default,
                           license=str(stamp.get("licence") or DEMO_LICENCE),
                           description=str(stamp.get("description") or DEMO_DESCRIPTION))
