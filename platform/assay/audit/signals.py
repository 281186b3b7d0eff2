"""Sign-in, sign-out and failed sign-in events, from Django's own auth signals.

These are the one place where a signal is the service: Django's login view makes the
change, and these receivers write the events in the same request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from assay.audit.context import Actor, audit_context
from assay.audit.services import record


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with audit_context(actor=Actor.for_user(user)):
        record("accounts.user.logged_in", target=user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        with audit_context(actor=Actor.for_user(user)):
            record("accounts.user.logged_out", target=user)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None,
                  **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    record("accounts.user.login_failed", actor=Actor.system("auth"),
           data={"username": username})
