"""Pluggy entry point of the factuality plugin (entry-point group ``assay``).

Importing this module loads neither torch nor the embedding model: the web process imports
every plugin to list its checks, and the model is loaded on the first check run instead.
"""

from __future__ import annotations

from assay import Check, hookimpl
from plugins.factuality.check import FactualityCheck

#: Assay plugin API versions this module was written against.
ASSAY_API = ">=1,<2"


@hookimpl
def register_checks() -> list[type[Check]]:
    """The claim-by-claim factuality check."""
    return [FactualityCheck]
