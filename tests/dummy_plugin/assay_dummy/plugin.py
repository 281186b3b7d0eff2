"""Registers the dummy generator through the public facade only."""

from assay import hookimpl
from assay_dummy.checks import DummyWordsCheck
from assay_dummy.generator import DummyTextGenerator

ASSAY_API = ">=1,<2"


@hookimpl
def register_generators() -> list[type]:
    """The dummy text generator."""
    return [DummyTextGenerator]


@hookimpl
def register_checks() -> list[type]:
    """The marker-word check."""
    return [DummyWordsCheck]
