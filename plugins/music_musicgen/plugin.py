"""Pluggy entry point of the music-musicgen plugin (entry-point group ``assay``).

Importing this module imports neither torch nor transformers: the web process loads every
plugin to list generators and validate parameters, and should not pay for the model stack.
"""

from __future__ import annotations

from pathlib import Path

from assay import Generator, hookimpl
from plugins.music_musicgen.demo_model import DEMO_NAME, build_demo_music_model
from plugins.music_musicgen.generator import DEMO_FOLDER, MusicgenAudioGenerator

#: Assay plugin API versions this module was written against.
ASSAY_API = ">=1,<2"

__all__ = ("ASSAY_API", "DEMO_NAME", "build_demo_models", "register_generators")


@hookimpl
def register_generators() -> list[type[Generator]]:
    """The music generator."""
    return [MusicgenAudioGenerator]


@hookimpl
def build_demo_models(models_dir: str, force: bool) -> list[str]:
    """Build the demo MusicGen into ``models_dir/demo-music`` (fast when up to date)."""
    build_demo_music_model(Path(models_dir) / DEMO_FOLDER, force=force)
    return [DEMO_FOLDER]
