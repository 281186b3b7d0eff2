"""Pluggy entry point of the quality-checks plugin (entry-point group ``assay``).

The checks ship as a plugin, not as platform code, so that a project can replace or extend
them exactly the way a third party would, and so the platform depends only on the contract.
"""

from __future__ import annotations

from assay import Check, hookimpl
from plugins.quality_checks.banned_terms import BannedTermsCheck
from plugins.quality_checks.disclaimers import DisclaimersCheck
from plugins.quality_checks.image import (
    BlankImageCheck,
    MinimumResolutionCheck,
    NearDuplicateCheck,
)
from plugins.quality_checks.noise import StructurelessNoiseCheck
from plugins.quality_checks.personal_data import PersonalDataCheck
from plugins.quality_checks.profanity import ProfanityCheck
from plugins.quality_checks.readability import LengthReadabilityCheck

#: Assay plugin API versions this module was written against.
ASSAY_API = ">=1,<2"

CHECKS: tuple[type[Check], ...] = (
    BannedTermsCheck,
    DisclaimersCheck,
    PersonalDataCheck,
    LengthReadabilityCheck,
    ProfanityCheck,
    MinimumResolutionCheck,
    BlankImageCheck,
    StructurelessNoiseCheck,
    NearDuplicateCheck,
)


@hookimpl
def register_checks() -> list[type[Check]]:
    """Every text and image check of this plugin."""
    return list(CHECKS)
