"""Guarded, atomic job status changes: check the move, then compare-and-set in SQL.

The UPDATE's WHERE clause names the status (and, for a worker, its claim token) the
caller saw, so two actors racing produce exactly one change and the loser learns it
lost. This works the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

from typing import Any

from assay.core.exceptions import InvalidTransition
from assay.generation.choices import can_transition
from assay.generation.models import GenerationJob


def transition(job: GenerationJob, target: str, *, expected_token: str | None = None,
               **fields: Any) -> bool:
    """Move ``job`` from its current status to ``target``, setting ``fields`` too.

    Returns False when the row changed underneath (someone else won); raises
    InvalidTransition when the state machine forbids the move. On success the
    in-memory ``job`` is updated to match the row.
    """
    if not can_transition(job.status, target):
        raise InvalidTransition(
            f"A {job.status} job cannot become {target}.",
            errors={"status": [f"{job.status} → {target} is not allowed"]},
        )
    match: dict[str, Any] = {"pk": job.pk, "status": job.status}
    if expected_token is not None:
        match["claim_token"] = expected_token
    changed = GenerationJob.objects.filter(**match).update(status=target, **fields)
    if changed:
        job.status = target
        for name, value in fields.items():
            setattr(job, name, value)
    return bool(changed)
