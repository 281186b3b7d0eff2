"""Pluggy entry point of the image-diffusers plugin (entry-point group ``assay``).

Importing this module imports neither torch nor diffusers: the web process loads every
plugin to list generators and validate parameters, and should not pay for the model stack.
"""

from __future__ import annotations

from pathlib import Path

from assay import Generator, hookimpl
from plugins.image_diffusers.generator import DEMO_FOLDER, DiffusersImageGenerator

#: Assay plugin API versions this module was written against.
ASSAY_API = ">=1,<2"


@hookimpl
def register_generators() -> list[type[Generator]]:
    """The image generator."""
    return [DiffusersImageGenerator]


@hookimpl
def build_demo_models(models_dir: str, force: bool) -> list[str]:
    """Build the demo image pipeline into ``models_dir/demo-image`` (fast when up to date)."""
    from plugins.image_diffusers.demo_model import build_demo_image_model

    build_demo_image_model(Path(models_dir) / DEMO_FOLDER, force=force)
    return [DEMO_FOLDER]
