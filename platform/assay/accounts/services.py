"""Account mutations: users, teams and API tokens, each audited."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from assay.accounts.models import APIToken, Team, User, token_digest
from assay.audit.services import record
from assay.core.exceptions import InvalidInput


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
    slug = slug or slugify(name)
    if not slug:
        raise InvalidInput("A team needs a name with letters or digits.")
    if Team.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A team with slug {slug!r} exists already.")
    team = Team.objects.create(name=name, slug=slug)
    record("accounts.team.created", target=team)
    return team


@transaction.atomic
def issue_token(user: User, *, name: str, days: int = 90) -> tuple[APIToken, str]:
    """Create an API token; returns it and the raw value, which is never stored."""
    if not 1 <= days <= 366:
        raise InvalidInput("A token lives between 1 and 366 days.")
    raw = "asy_" + secrets.token_urlsafe(32)
    token = APIToken.objects.create(
        user=user, name=name[:100], prefix=raw[:10], digest=token_digest(raw),
        expires_at=timezone.now() + timedelta(days=days),
    )
    record("accounts.token.issued", target=token, data={"user": user.username, "days": days})
    return token, raw
