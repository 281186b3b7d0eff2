"""The sign-in lockout's audit event, from django-axes' ``user_locked_out`` signal.

Axes makes the change (it counts failures and refuses further attempts) inside Django's
login flow, so, as for sign-ins, a receiver is where the event is written.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.dispatch import receiver

from assay.accounts.models import User
from assay.audit.context import Actor
from assay.audit.services import record


@receiver(user_locked_out, dispatch_uid="assay.accounts.locked_out")
def _locked_out(sender: Any, request: Any, username: str | None = None,
                ip_address: str | None = None, **kwargs: Any) -> None:
    """Record the lockout once, when it begins.

    Axes sends the signal again for every attempt made while locked out (each of them is
    audited as accounts.user.login_failed already); only the attempt that reaches the
    limit starts a lockout.
    """
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is not None and failures > settings.AXES_FAILURE_LIMIT:
        return
    name = str(username or "")[:150]
    user = User.objects.filter(username=name).first() if name else None
    cooloff = settings.AXES_COOLOFF_TIME
    record("accounts.user.locked_out", target=user, actor=Actor.system("auth"),
           data={"username": name, "ip": ip_address or "",
                 "failures": failures if failures is not None else settings.AXES_FAILURE_LIMIT,
                 "cooloff_minutes": int(cooloff.total_seconds() // 60) if cooloff else None,
                 "path": getattr(request, "path", "")[:200]})
