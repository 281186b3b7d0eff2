"""Assay: the Django project and the public plugin facade.

Plugins import only these names; they stay here, or move behind a deprecation shim.
Nothing here imports Django, so a plugin module can be imported without settings.
"""

from assay.plugins.contracts import (
    PLUGIN_API_VERSION,
    Check,
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

__all__ = (
    "PLUGIN_API_VERSION",
    "STAMP_NAME",
    "Check",
    "GeneratedOutput",
    "GenerationCancelled",
    "GenerationRequest",
    "Generator",
    "ModelRef",
    "NullProgress",
    "Param",
    "Progress",
    "RequestResult",
    "ResolvedSource",
    "build_model_folder",
    "folder_revision",
    "hookimpl",
    "read_stamp",
    "resolve_source",
)
