"""Account mutations: users, teams and API tokens, each audited."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from assay.accounts.choices import TokenScope
from assay.accounts.models import APIToken, Team, User, token_digest
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import Conflict, InvalidInput, NotFound, NotPermitted
from assay.core.inputs import clean_text, echo
from assay.core.slugs import clean_slug


@transaction.atomic
def create_user(username: str, password: str, *, email: str = "", global_role: str = "",
                is_staff: bool = False) -> User:
    """Create a user (refuses a taken username)."""
    if User.objects.filter(username=username).exists():
        raise InvalidInput(f"The username {username!r} is taken.")
    user = User.objects.create_user(username=username, password=password, email=email,
                                    global_role=global_role, is_staff=is_staff,
                                    is_superuser=global_role == "admin")
    record("accounts.user.created", target=user, data={"global_role": global_role})
    return user


@transaction.atomic
def create_team(name: str, *, slug: str = "") -> Team:
    """Create a team with a unique slug."""
    slug = clean_slug(name, slug, noun="team")
    if Team.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A team with slug {slug!r} exists already.")
    team = Team.objects.create(name=name, slug=slug)
    record("accounts.team.created", target=team)
    return team


TOKEN_MAX_DAYS = 366
TOKEN_NAME_CHARS = 100
REVOKE_REASON_CHARS = 500


def visible_tokens(user: Any) -> QuerySet[APIToken]:
    """The tokens ``user`` may list and revoke: their own; everyone's for platform admins."""
    return APIToken.objects.visible_to(user).select_related("user")


def create_token(user: User, *, name: str, scope: str, days: int = 90,
                 by: User | None = None, via: APIToken | None = None) -> tuple[APIToken, str]:
    """Create an API token for ``user``; returns it and the raw secret, which is never stored.

    ``by`` is the person asking (None: the command line or the system): only the owner or a
    platform admin may create a user's token. ``via`` is the token the request came with, if
    any: a token cannot mint a token that outlives it or has a wider scope, so a leaked
    token cannot be turned into a longer-lived one.
    """
    name = clean_text("name", name, limit=TOKEN_NAME_CHARS, required=True,
                      missing="Give the token a name.")
    if scope not in TokenScope.values:
        choices = ", ".join(TokenScope.values)
        raise InvalidInput(f"The scope must be one of: {choices}.",
                           errors={"scope": [f"Choose one of: {choices}."]})
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= TOKEN_MAX_DAYS:
        raise InvalidInput(f"A token lives between 1 and {TOKEN_MAX_DAYS} days.",
                           errors={"days": [f"Send a whole number from 1 to {TOKEN_MAX_DAYS}."]})
    if by is not None and by.pk != user.pk and not by.is_platform_admin:
        raise NotPermitted("You can create API tokens only for yourself.")
    if not user.is_active:
        raise InvalidInput(f"The user {user.get_username()!r} is inactive.")
    expires_at = timezone.now() + timedelta(days=days)
    if via is not None:
        if via.scope == TokenScope.READ and scope != TokenScope.READ:
            raise NotPermitted("A read-only token cannot create a write token.")
        if expires_at > via.expires_at:
            allowed = max(0, (via.expires_at - timezone.now()).days)
            advice = (f"ask for at most {allowed} days" if allowed else
                      "it cannot create tokens any more")
            raise InvalidInput(
                f"A token cannot create a token that outlives it: the one you sent expires "
                f"{via.expires_at:%Y-%m-%d %H:%M} UTC, so {advice} (or sign in to the portal "
                f"to create a longer-lived one).",
                errors={"days": [f"At most {allowed} days with this token."]})
    raw = "asy_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = APIToken.objects.create(
            user=user, name=name, scope=scope, prefix=raw[:10], digest=token_digest(raw),
            expires_at=expires_at,
        )
        record("accounts.token.created", target=token,
               actor=actor_for(by) if by is not None else None,
               data={"user": user.get_username(), "name": name, "scope": scope, "days": days,
                     "expires_at": expires_at.isoformat()})
    return token, raw


def issue_token(user: User, *, name: str, days: int = 90,
                scope: str = TokenScope.WRITE) -> tuple[APIToken, str]:
    """A write token for ``user`` from the system or the command line (see create_token)."""
    return create_token(user, name=name, scope=scope, days=days)


def revoke_token(token_id: Any, *, by: User | None = None, reason: str = "") -> APIToken:
    """Revoke a token at once: the next request that sends it gets a 401.

    ``by`` is the person asking (None: the command line): they may revoke the tokens they
    can see (their own; admins everyone's); any other id is "not found". Revoking twice is
    a conflict, so concurrent revocations write one event.
    """
    reason = clean_text("reason", reason, limit=REVOKE_REASON_CHARS, required=False)
    tokens = APIToken.objects.visible_to(by) if by is not None else APIToken.objects.all()
    with transaction.atomic():
        try:
            token = tokens.select_for_update().filter(pk=token_id).first()
        except (TypeError, ValueError, ValidationError):
            token = None
        if token is None:
            raise NotFound(f"No API token {echo(token_id)} that you can see.")
        if token.revoked_at is not None:
            raise Conflict(f"The API token {token.name!r} was already revoked at "
                           f"{token.revoked_at:%Y-%m-%d %H:%M} UTC.")
        was = token.status
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record("accounts.token.revoked", target=token,
               actor=actor_for(by) if by is not None else None, reason=reason,
               data={"user": token.user.get_username(), "name": token.name,
                     "scope": token.scope, "was": was})
    return token
