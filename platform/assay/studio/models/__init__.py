"""Studio models, one module per concept, re-exported here."""

from assay.studio.models.assets import Asset
from assay.studio.models.invitations import Invitation
from assay.studio.models.projects import Membership, Project
from assay.studio.models.prompts import PromptLabel, PromptTemplate, PromptVersion
from assay.studio.models.protection import GoldenSet, ProtectedLabel

__all__ = (
    "Asset",
    "GoldenSet",
    "Invitation",
    "Membership",
    "Project",
    "PromptLabel",
    "PromptTemplate",
    "PromptVersion",
    "ProtectedLabel",
)
