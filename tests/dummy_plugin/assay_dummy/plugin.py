"""Registers the dummy generator through the public facade only."""

from assay import hookimpl
from assay_dummy.generator import DummyTextGenerator

ASSAY_API = ">=1,<2"


@hookimpl
def register_generators() -> list[type]:
    """The dummy text generator."""
    return [DummyTextGenerator]
