"""Single sign-on with an OpenID Connect provider: the backend and the group mapping.

mozilla-django-oidc runs the code flow (state, nonce, PKCE, token and userinfo calls, ID
token signature); this module decides who the provider's user is in Assay. Users are
matched on the provider's (issuer, subject), never on a name or e-mail, so a provider
account cannot take over a local one. Every sign-in re-applies ASSAY_OIDC_ROLE_MAP: the
global role follows the groups, and project memberships the map granted (and only those)
are added, changed or removed. A user the provider no longer knows, or who left every
mapped group, is refused with a sentence that says why; provider users have no usable
local password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import resolve_url
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from assay.accounts.choices import GlobalRole, ProjectRole
from assay.accounts.models import ExternalIdentity, ProviderMembership, User
from assay.accounts.services import create_user
from assay.audit.context import Actor
from assay.audit.services import record
from assay.studio.models import Membership, Project
from assay.studio.services.projects import grant_role

#: mozilla-django-oidc setting → the discovery document's key, for endpoints left empty.
_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_END_SESSION_ENDPOINT": "end_session_endpoint",
}
_discovery_cache: dict[str, dict[str, Any]] = {}
_GLOBAL_RANK = {GlobalRole.NONE: 0, GlobalRole.AUDITOR: 1, GlobalRole.ADMIN: 2}
_PROJECT_RANK = {ProjectRole.CREATOR: 1, ProjectRole.REVIEWER: 2, ProjectRole.OWNER: 3}
_USERNAME_BAD = re.compile(r"[^\w.@+-]")
SYSTEM = Actor.system("single sign-on")


class SignInRefused(Exception):
    """The provider's user may not sign in; the message says why, in words."""


def enabled() -> bool:
    """Single sign-on is on when a client id is configured."""
    return bool(getattr(settings, "ASSAY_OIDC_ENABLED", False))


def provider_name() -> str:
    """The provider's name as the sign-in button shows it."""
    return str(getattr(settings, "ASSAY_OIDC_PROVIDER_NAME", "") or "single sign-on")


def discovery(issuer: str) -> dict[str, Any]:
    """The issuer's discovery document, fetched once per process."""
    if issuer not in _discovery_cache:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        _discovery_cache[issuer] = response.json()
    return _discovery_cache[issuer]


def oidc_setting(attr: str, *args: Any) -> Any:
    """A mozilla-django-oidc setting; empty endpoints come from the issuer's discovery."""
    value = import_from_settings(attr, *args) if attr not in _DISCOVERED else getattr(
        settings, attr, "")
    issuer = getattr(settings, "ASSAY_OIDC_ISSUER", "")
    if attr in _DISCOVERED and not value and issuer and enabled():
        value = discovery(issuer).get(_DISCOVERED[attr], "")
    return value


@dataclass
class Mapping:
    """What the user's groups grant: one global role and a role per project slug."""

    global_role: str = GlobalRole.NONE
    projects: dict[str, str] = field(default_factory=dict)
    mapped_groups: list[str] = field(default_factory=list)


def map_groups(groups: list[str], role_map: dict[str, Any]) -> Mapping:
    """Apply ASSAY_OIDC_ROLE_MAP to the groups; the highest role wins where several map.

    Args:
        groups: the group names the provider sent.
        role_map: group → "admin"/"auditor", or group → {project slug: project role}.
    """
    mapping = Mapping()
    for group in groups:
        target = role_map.get(group)
        if target is None:
            continue
        mapping.mapped_groups.append(group)
        if isinstance(target, str):
            if _GLOBAL_RANK.get(target, -1) > _GLOBAL_RANK[mapping.global_role]:
                mapping.global_role = GlobalRole(target)
        elif isinstance(target, dict):
            for slug, role in target.items():
                rank = _PROJECT_RANK.get(role, 0)
                if rank and rank > _PROJECT_RANK.get(mapping.projects.get(slug, ""), 0):
                    mapping.projects[slug] = role
    return mapping


def _groups_from(claims: dict[str, Any]) -> list[str]:
    raw = claims.get(getattr(settings, "ASSAY_OIDC_GROUPS_CLAIM", "groups"), [])
    if isinstance(raw, str):
        raw = [raw]
    return sorted({str(g) for g in raw if isinstance(g, str | int)}) if isinstance(
        raw, list) else []


def _username_from(claims: dict[str, Any]) -> str:
    raw = str(claims.get("preferred_username") or claims.get("sub") or "")
    return _USERNAME_BAD.sub("-", raw)[:150]


def _identity_for(issuer: str, claims: dict[str, Any]) -> tuple[ExternalIdentity, bool]:
    """The identity for (issuer, sub), creating its user on the first sign-in."""
    subject = str(claims["sub"])
    identity = (ExternalIdentity.objects.select_related("user")
                .filter(issuer=issuer, subject=subject).first())
    if identity is not None:
        return identity, False
    username = _username_from(claims)
    if not username:
        raise SignInRefused("The provider sent no user name; ask your administrator.")
    if User.objects.filter(username=username).exists():
        raise SignInRefused(
            f"An Assay account named {username} exists already and is not linked to "
            f"{provider_name()}; ask an Assay admin to rename or link it.")
    user = create_user(username, None, email=str(claims.get("email") or ""))  # type: ignore[arg-type]
    identity = ExternalIdentity.objects.create(user=user, issuer=issuer, subject=subject)
    record("accounts.provider.linked", target=user, actor=SYSTEM,
           data={"issuer": issuer, "subject": subject, "username": username})
    return identity, True


def _apply_global_role(user: User, role: str) -> None:
    is_admin = role == GlobalRole.ADMIN
    before = {"global_role": user.global_role, "is_superuser": user.is_superuser}
    if user.global_role == role and user.is_superuser == is_admin:
        return
    user.global_role, user.is_superuser, user.is_staff = role, is_admin, is_admin
    user.save(update_fields=["global_role", "is_superuser", "is_staff"])
    record("accounts.user.changed", target=user, actor=SYSTEM,
           data={"before": before, "after": {"global_role": role, "is_superuser": is_admin},
                 "by": "provider group mapping"})


def _apply_projects(identity: ExternalIdentity, wanted: dict[str, str]) -> list[str]:
    """Add, change or remove the memberships the mapping manages; returns unknown slugs."""
    user = identity.user
    projects = {p.slug: p for p in Project.objects.filter(slug__in=wanted)}
    managed = {pm.membership.project.slug: pm for pm in identity.managed_memberships
               .select_related("membership__project")}
    for slug, pm in managed.items():
        if slug not in projects:
            membership = pm.membership
            record("accounts.provider.membership_removed", target=membership, actor=SYSTEM,
                   project_id=membership.project_id,
                   data={"user": user.username, "role": membership.role})
            membership.delete()
    for slug, project in projects.items():
        existing = Membership.objects.filter(project=project, user=user).first()
        if existing is not None and slug not in managed:
            continue  # granted by hand: the mapping leaves it alone
        membership = grant_role(project, user, wanted[slug])
        if slug not in managed:
            ProviderMembership.objects.create(identity=identity, membership=membership)
    return sorted(set(wanted) - set(projects))


@transaction.atomic
def sign_in_from_provider(issuer: str, claims: dict[str, Any]) -> User:
    """Find or create the provider's user and apply the group mapping; check, then change.

    Raises:
        SignInRefused: the claims lack a subject, the name is taken by a local account,
            the Assay account is switched off, or (with ASSAY_OIDC_REQUIRE_MAPPED_GROUP) the
            user is in none of the mapped groups; their managed roles are removed first.
    """
    if not claims.get("sub"):
        raise SignInRefused("The provider sent no account id; ask your administrator.")
    groups = _groups_from(claims)
    role_map = getattr(settings, "ASSAY_OIDC_ROLE_MAP", {}) or {}
    mapping = map_groups(groups, role_map if isinstance(role_map, dict) else {})
    identity, created = _identity_for(issuer, claims)
    user = identity.user
    if not user.is_active:
        raise SignInRefused("This Assay account is switched off; ask an Assay admin.")
    if user.has_usable_password():
        user.set_unusable_password()  # provider users sign in at the provider only
        user.save(update_fields=["password"])
    email = str(claims.get("email") or "")
    if email and email != user.email:
        user.email = email
        user.save(update_fields=["email"])
    _apply_global_role(user, mapping.global_role)
    unknown = _apply_projects(identity, mapping.projects)
    identity.groups, identity.last_synced_at = groups, timezone.now()
    identity.save(update_fields=["groups", "last_synced_at"])
    record("accounts.provider.synced", target=user, actor=SYSTEM,
           data={"groups": groups, "mapped_groups": mapping.mapped_groups,
                 "global_role": mapping.global_role, "projects": mapping.projects,
                 "unknown_projects": unknown, "created": created})
    if not mapping.mapped_groups and getattr(settings, "ASSAY_OIDC_REQUIRE_MAPPED_GROUP", True):
        raise _Refusal(f"Your {provider_name()} account is in no group that gives access "
                       "to Assay; ask your administrator to add you to one.")
    return user


class _Refusal(SignInRefused):
    """The user is in no mapped group: the sign-in's transaction is rolled back, then
    ``sign_in`` removes the roles the mapping had given (in a transaction of its own)."""


def sign_in(issuer: str, claims: dict[str, Any]) -> User:
    """Sign the provider's user in, keeping the removal of their roles when refused.

    A user who left every mapped group loses the roles the mapping gave them before being
    refused, so their access ends at the provider's word rather than at the next change.
    """
    try:
        return sign_in_from_provider(issuer, claims)
    except _Refusal as refusal:
        with transaction.atomic():
            _strip(issuer, claims)
        record("accounts.provider.refused", actor=SYSTEM,
               data={"subject": str(claims.get("sub", ""))[:255], "reason": str(refusal)})
        raise
    except SignInRefused as refusal:
        record("accounts.provider.refused", actor=SYSTEM,
               data={"subject": str(claims.get("sub", ""))[:255], "reason": str(refusal)})
        raise


def _strip(issuer: str, claims: dict[str, Any]) -> None:
    identity = (ExternalIdentity.objects.select_related("user")
                .filter(issuer=issuer, subject=str(claims["sub"])).first())
    if identity is not None:
        _apply_global_role(identity.user, GlobalRole.NONE)
        _apply_projects(identity, {})


class LocalPasswordGuard:
    """Refuse username and password sign-in for users who sign in at the provider.

    Provider users get no usable password, but an admin could still set one; listed just
    before ModelBackend, this ends the attempt (PermissionDenied stops Django's backend
    loop) so the provider stays the only way in and its removal cannot be sidestepped.
    It has no ``get_user`` on purpose: sessions are never made by it (force_login and
    login() pick the first backend that has one).
    """

    def authenticate(self, request: Any, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> None:
        if username and password is not None and ExternalIdentity.objects.filter(
                user__username=username).exists():
            raise PermissionDenied("This account signs in with single sign-on.")
        return None


class ProviderBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, with users matched and mapped by this module.

    Django builds every backend for every sign-in, local ones too: this one reads its
    settings (and fetches discovery) only when the provider's callback is being answered.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._configured = False

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def authenticate(self, request: Any, **kwargs: Any) -> User | None:
        """Answer only the callback (a code and a state) while single sign-on is on."""
        if request is None or not enabled() or "code" not in request.GET:
            return None
        if not self._configured:
            super().__init__()
            self._configured = True
        return super().authenticate(request, **kwargs)

    def get_or_create_user(self, access_token: str, id_token: str,
                           payload: dict[str, Any]) -> User | None:
        """Userinfo claims decide who signs in; a refusal is kept on the request."""
        claims = self.get_userinfo(access_token, id_token, payload)
        issuer = str(payload.get("iss") or getattr(settings, "ASSAY_OIDC_ISSUER", ""))
        if claims.get("sub") != payload.get("sub"):
            self.request.oidc_refusal = "The provider's answers did not match; try again."
            return None
        try:
            return sign_in(issuer, claims)
        except SignInRefused as refusal:
            self.request.oidc_refusal = str(refusal)
            return None

    def get_user(self, user_id: Any) -> User | None:
        """Sessions made by this backend load their user like any other."""
        return User.objects.filter(pk=user_id).first()


def provider_logout_url(request: Any) -> str:
    """Where sign-out goes: the provider's end-session endpoint when it has one."""
    back = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
    end = oidc_setting("OIDC_OP_END_SESSION_ENDPOINT")
    if not end:
        return back
    query = urlencode({"id_token_hint": request.session.get("oidc_id_token", ""),
                       "post_logout_redirect_uri": back})
    return f"{end}?{query}"
