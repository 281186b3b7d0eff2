"""Assay: the Django project and the public plugin facade.

Plugins import only these names; they stay here, or move behind a deprecation shim.
Nothing here imports Django, so a plugin module can be imported without settings.
"""

from assay.plugins.contracts import (
    CHECK_STATUSES,
    PLUGIN_API_VERSION,
    SEVERITIES,
    BannedTerm,
    Check,
    CheckContext,
    CheckOutcome,
    CheckSubject,
    Disclaimer,
    Evidence,
    Fact,
    GeneratedOutput,
    GenerationCancelled,
    GenerationRequest,
    Generator,
    ModelRef,
    NullProgress,
    Param,
    Progress,
    RequestResult,
)
from assay.plugins.hookspecs import hookimpl
from assay.plugins.modelfiles import (
    STAMP_NAME,
    ResolvedSource,
    build_model_folder,
    folder_revision,
    read_stamp,
    resolve_source,
)
from assay.plugins.patterns import MAX_OWNER_PATTERN, OwnerPattern, compile_owner_pattern

__all__ = (
    "CHECK_STATUSES",
    "MAX_OWNER_PATTERN",
    "PLUGIN_API_VERSION",
    "SEVERITIES",
    "STAMP_NAME",
    "BannedTerm",
    "Check",
    "CheckContext",
    "CheckOutcome",
    "CheckSubject",
    "Disclaimer",
    "Evidence",
    "Fact",
    "GeneratedOutput",
    "GenerationCancelled",
    "GenerationRequest",
    "Generator",
    "ModelRef",
    "NullProgress",
    "OwnerPattern",
    "Param",
    "Progress",
    "RequestResult",
    "ResolvedSource",
    "build_model_folder",
    "compile_owner_pattern",
    "folder_revision",
    "hookimpl",
    "read_stamp",
    "resolve_source",
)
