"""Building every plugin's demo models (the embedded default has no model hub)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from assay.audit.context import Actor, audit_context
from assay.audit.services import record
from assay.generation.models import RegisteredModel
from assay.generation.registry import register_model
from assay.plugins.manager import get_plugins
from assay.plugins.modelfiles import folder_revision


def build_demo_models(*, force: bool = False, models_dir: Path | None = None,
                      register: bool = True) -> list[str]:
    """Ask each plugin to build its demo models; returns the names built or found.

    With ``register`` (the default) each generator's default model that now exists is
    registered for all projects, pinned by its content hash.
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


def _register_demo_models(target: Path) -> None:
    """Register each generator's default model that now exists on disk, for all projects.

    Re-registering re-pins the content hash, so a rebuilt demo model is recorded as the
    new revision it is.
    """
    for generator_id, cls in sorted(get_plugins().generators.items()):
        ref = cls.default_model(str(target))
        if ref is None or not Path(ref.source).is_dir():
            continue
        existing = RegisteredModel.objects.filter(name=ref.name or generator_id).first()
        if existing and existing.source == str(Path(ref.source).resolve()) and \
                existing.revision == folder_revision(Path(ref.source)):
            continue
        register_model(name=ref.name or generator_id, generator_id=generator_id,
                       source=ref.source, all_projects=True, is_default=True,
                       license="Demo model built locally by Assay; no licence restrictions.",
                       description="Small local demo model (no model hub needed).")
