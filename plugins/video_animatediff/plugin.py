"""Pluggy entry point of the video-animatediff plugin (entry-point group ``assay``).

Importing this module imports neither torch nor diffusers (the demo builder imports them
when called): the web process loads every
plugin to list generators and validate parameters, and should not pay for the model stack.
"""

from __future__ import annotations

from pathlib import Path

from assay import Generator, hookimpl
from plugins.video_animatediff.demo_model import build_demo_video_model
from plugins.video_animatediff.generator import DEMO_FOLDER, AnimateDiffVideoGenerator

#: Assay plugin API versions this module was written against.
ASSAY_API = ">=1,<2"


@hookimpl
def register_generators() -> list[type[Generator]]:
    """The video generator."""
    return [AnimateDiffVideoGenerator]


@hookimpl
def build_demo_models(models_dir: str, force: bool) -> list[str]:
    """Build the demo video pipeline into ``models_dir/demo-video`` (fast when up to date)."""
    build_demo_video_model(Path(models_dir) / DEMO_FOLDER, force=force)
    return [DEMO_FOLDER]

