"""Building every plugin's demo models (the embedded default has no model hub)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from assay.plugins.manager import get_plugins
from governance.audit.context import Actor, audit_context
from governance.audit.services import record


def build_demo_models(*, force: bool = False, models_dir: Path | None = None) -> list[str]:
    """Ask each plugin to build its demo models; returns the names built or found."""
    target = Path(models_dir or settings.ASSAY_MODELS_DIR)
    target.mkdir(parents=True, exist_ok=True)
    results = get_plugins().pm.hook.build_demo_models(models_dir=str(target), force=force)
    names = sorted(name for result in results for name in (result or []))
    with audit_context(actor=Actor.system("build_demo_models")):
        record("generation.models.built", data={"models": names, "folder": str(target),
                                                 "force": force})
    return names
