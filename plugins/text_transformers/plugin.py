"""Pluggy entry point of the text-transformers plugin (entry-point group ``assay``).

Importing this module imports neither torch nor transformers: the web process loads every
plugin to list generators and validate parameters, and should not pay for the model stack.
"""

from __future__ import annotations

from pathlib import Path

from assay import Generator, hookimpl
from plugins.text_transformers.generator import (
    DEMO_FOLDER,
    INSTRUCT_FOLDER,
    TransformersTextGenerator,
    demo_model_choice,
)
from plugins.text_transformers.instruct_model import INSTRUCT_NAME, build_instruct_model

#: Assay plugin API versions this module was written against.
ASSAY_API = ">=1,<2"


@hookimpl
def register_generators() -> list[type[Generator]]:
    """The text generator."""
    return [TransformersTextGenerator]


@hookimpl
def build_demo_models(models_dir: str, force: bool) -> list[str]:
    """Build the demo text models under ``models_dir`` (fast when up to date).

    Always the tiny model (``demo-text``, seconds); with ``ASSAY_TEXT_DEMO_MODEL=instruct``
    (the default) also SmolLM2-135M-Instruct converted from its GGUF (``instruct-text``,
    tens of seconds once), which then becomes the default text model.

    Raises:
        InstructModelMissing: instruct was asked for but its package is not installed
            (the message says what to install, or to choose ``tiny``).
    """
    from plugins.text_transformers.demo_model import DEMO_NAME, build_demo_text_model

    root = Path(models_dir)
    build_demo_text_model(root / DEMO_FOLDER, force=force)
    names = [DEMO_NAME]
    if demo_model_choice() == "instruct":
        build_instruct_model(root / INSTRUCT_FOLDER, force=force)
        names.append(INSTRUCT_NAME)
    return names
