"""Provenance as a built-in plugin: an approval's one event (the ``asset_approved``
hook) queues the signing of that asset version (``ASSAY_BUILTIN_PLUGINS``)."""

from __future__ import annotations

from assay import hookimpl
from governance.provenance.dispatch import queue_signing


@hookimpl
def asset_approved(asset_id: str, review_id: int, correlation_id: str) -> None:
    """Sign the approved asset on the CPU queue once the approval has committed; the
    approval's correlation id goes with it, so the signing event joins the approval."""
    queue_signing(asset_id, review_id, correlation_id or None)
