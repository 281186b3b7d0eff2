"""Celery tasks for provenance: thin wrappers around the services."""

from __future__ import annotations

from assay.audit.context import audit_context
from assay.celery import app
from governance.provenance.services import sign_approved, sweep_unsigned


@app.task(name="provenance.sign_asset")
def sign_asset_task(asset_id: str, review_id: int,
                    correlation_id: str | None = None) -> str | None:
    """Sign one approved asset version; returns the signed row's id (None if refused).

    ``correlation_id`` is the approving request's: the signing event joins the approval
    in the audit log (a message sent without it gets a fresh one).
    """
    with audit_context(correlation_id=correlation_id or None):
        signed = sign_approved(asset_id, review_id)
    return str(signed.pk) if signed is not None else None


@app.task(name="provenance.sweep")
def sweep_task() -> int:
    """Sign approved assets whose signing task was lost; returns how many were signed."""
    return sweep_unsigned()
