"""Celery beat tasks: seal what no commit sealed, and sign checkpoints."""

from __future__ import annotations

from assay.audit.chain import seal
from assay.audit.checkpoints import write_checkpoint
from assay.celery import app


@app.task(name="audit.seal")
def seal_task() -> int:
    """Seal pending events (skips when another sealer is at work); returns how many."""
    return seal(wait=False)


@app.task(name="audit.checkpoint")
def checkpoint_task() -> int | None:
    """Write a signed checkpoint when the head moved; returns its seq."""
    checkpoint = write_checkpoint()
    return checkpoint.seq if checkpoint else None
