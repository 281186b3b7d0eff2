"""``record``: the one call every service makes after it changes state.

Call it inside the same transaction as the change, so the event and the change commit
or roll back together. The event is a plain insert; it joins the hash chain when the
sealer runs after the commit (assay.audit.chain).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from assay.audit import registry
from assay.audit.chain import schedule_seal
from assay.audit.context import Actor, current
from assay.audit.models import AuditEvent


def record(
    action: str,
    *,
    target: models.Model | None = None,
    actor: Actor | None = None,
    project_id: int | None = None,
    data: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Write one audit event for a registered action code.

    Args:
        action: a code registered in assay.audit.registry (unknown codes raise).
        target: the object acted on; its type, id and ``str()`` are frozen in the row.
        actor: who acted; defaults to the active audit context's actor, else the system.
        project_id: the project the event belongs to (derived from target when it has one).
        data: JSON-ready details, e.g. ``{"before": ..., "after": ...}``.
        reason: why, when the actor gave a reason.
    """
    registry.get(action)
    ctx = current()
    who = actor or ctx.actor or Actor.system("platform")
    if project_id is None and target is not None:
        project_id = getattr(target, "project_id", None)
        if project_id is None and target._meta.label_lower == "studio.project":
            project_id = target.pk
    event = AuditEvent.objects.create(
        action=action,
        actor_kind=who.kind,
        actor_id=who.id,
        actor_display=who.display[:200],
        actor_user_id=who.user_id,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_display=str(target)[:300] if target is not None else "",
        project_id=project_id,
        correlation_id=ctx.correlation_id,
        ip=ctx.ip,
        user_agent=ctx.user_agent[:300],
        data=data or {},
        reason=reason,
    )
    schedule_seal()
    return event
