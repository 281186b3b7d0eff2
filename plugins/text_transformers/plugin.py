"""Pluggy entry point of the text-transformers plugin (entry-point group ``assay``).

Importing this module imports neither torch nor transformers: the web process loads every
plugin to list generators and validate parameters, and should not pay for the model stack.
"""

from __future__ import annotations

from pathlib import Path

from assay import Generator, hookimpl
from plugins.text_transformers.generator import DEMO_FOLDER, TransformersTextGenerator

#: Assay plugin API versions this module was written against.
ASSAY_API = ">=1,<2"


@hookimpl
def register_generators() -> list[type[Generator]]:
    """The text generator."""
    return [TransformersTextGenerator]


@hookimpl
def build_demo_models(models_dir: str, force: bool) -> list[str]:
    """Build the demo text model into ``models_dir/demo-text`` (fast when up to date)."""
    from plugins.text_transformers.demo_model import DEMO_NAME, build_demo_text_model

    build_demo_text_model(Path(models_dir) / DEMO_FOLDER, force=force)
    return [DEMO_NAME]
