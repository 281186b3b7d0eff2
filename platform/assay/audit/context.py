"""Who is acting and under which correlation id, carried from a request into tasks.

A context variable rather than thread-locals: it works the same in the web server, in a
Celery task and in a management command, and ``audit_context`` restores the previous
value on exit so nested scopes (a task inside a test) do not leak.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Actor:
    """The one who acts: a user, an API token (on behalf of a user) or the system."""

    kind: str  # "user", "token" or "system"
    id: str
    display: str
    user_id: int | None = None

    @classmethod
    def for_user(cls, user: Any, *, token: Any = None) -> Actor:
        """The actor for a signed-in user, or a user acting through an API token."""
        if token is not None:
            return cls("token", str(token.pk), f"{user.get_username()} (token {token.prefix})",
                       user.pk)
        return cls("user", str(user.pk), user.get_username(), user.pk)

    @classmethod
    def system(cls, component: str) -> Actor:
        """The platform itself (a worker, the sweeper, a plugin)."""
        return cls("system", component, f"system:{component}")


@dataclass(frozen=True)
class AuditContext:
    """What every event recorded in this scope shares."""

    correlation_id: str
    actor: Actor | None = None
    ip: str | None = None
    user_agent: str = ""


_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "assay_audit_context", default=None
)


def new_correlation_id() -> str:
    """A fresh id for a request or a command run."""
    return uuid.uuid4().hex


def current() -> AuditContext:
    """The active context, or a fresh one with a new correlation id."""
    ctx = _current.get()
    return ctx if ctx is not None else AuditContext(correlation_id=new_correlation_id())


@contextlib.contextmanager
def audit_context(**changes: Any) -> Iterator[AuditContext]:
    """Run a block with actor/correlation id/ip set; unspecified fields are inherited."""
    base = _current.get() or AuditContext(correlation_id=new_correlation_id())
    ctx = replace(base, **{k: v for k, v in changes.items() if v is not None})
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def bind_actor(actor: Actor) -> None:
    """Name the actor for the rest of the current scope.

    For authentication that happens after the middleware opened the scope (DRF resolves
    tokens lazily); the enclosing ``audit_context`` restores the previous value on exit.
    """
    _current.set(replace(current(), actor=actor))


def actor_for(user: Any) -> Actor:
    """The actor for a service call made on behalf of ``user``.

    Services name the user they act for explicitly; the scope's actor is reused only when
    it is that same user, so a token-authenticated call keeps its token in the record.
    """
    ctx_actor = current().actor
    if ctx_actor is not None and ctx_actor.user_id == user.pk:
        return ctx_actor
    return Actor.for_user(user)
