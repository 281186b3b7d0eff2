"""Studio models, one module per concept, re-exported here."""

from assay.studio.models.assets import Asset
from assay.studio.models.projects import Membership, Project
from assay.studio.models.prompts import PromptLabel, PromptTemplate, PromptVersion

__all__ = (
    "Asset",
    "Membership",
    "Project",
    "PromptLabel",
    "PromptTemplate",
    "PromptVersion",
)
