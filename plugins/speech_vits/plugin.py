"""Pluggy entry point of the speech-vits plugin (entry-point group ``assay``).

Importing this module imports neither torch nor transformers (the demo builder imports them
when called): the web process loads every plugin to list generators and validate
parameters, and should not pay for the model stack.
"""

from __future__ import annotations

from pathlib import Path

from assay import Generator, hookimpl
from plugins.speech_vits.demo_model import build_demo_speech_model
from plugins.speech_vits.generator import DEMO_FOLDER, VitsSpeechGenerator

#: Assay plugin API versions this module was written against.
ASSAY_API = ">=1,<2"


@hookimpl
def register_generators() -> list[type[Generator]]:
    """The text-to-speech generator."""
    return [VitsSpeechGenerator]


@hookimpl
def build_demo_models(models_dir: str, force: bool) -> list[str]:
    """Build the demo voice into ``models_dir/demo-speech`` (fast when up to date)."""
    build_demo_speech_model(Path(models_dir) / DEMO_FOLDER, force=force)
    return [DEMO_FOLDER]
