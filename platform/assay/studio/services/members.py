"""Projects and their members, as owners and admins manage them.

Every mutation here checks who asks (``by``), then changes rows in one transaction and
records its audit event; the REST endpoints and the portal pages call these same
functions, so a rule lives once. The last owner of a project can be neither removed nor
demoted: a project without an owner could never be managed again.

Invitations are one-time links: the secret goes out in the e-mail only, the database keeps
its SHA-256 digest, the link expires after :data:`INVITE_DAYS` and accepting it stamps the
row, so it cannot be used twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from assay.accounts.choices import Capability, ProjectRole
from assay.accounts.models import Team, token_digest
from assay.accounts.services import create_team as _create_team
from assay.accounts.services import create_user
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import Conflict, InvalidInput, NotFound, NotPermitted
from assay.core.inputs import clean_text, echo
from assay.studio.models import Invitation, Membership, Project
from assay.studio.services.projects import create_project as _create_project
from assay.studio.services.projects import require_capability

#: How long an invitation link works.
INVITE_DAYS = 7
NAME_CHARS = 120
DESCRIPTION_CHARS = 2000
_ROLE_WORDS = ", ".join(ProjectRole.values)


# -- helpers ------------------------------------------------------------------------------
def _role(role: Any) -> str:
    if role not in ProjectRole.values:
        raise InvalidInput(f"Choose the role {_ROLE_WORDS}.",
                           errors={"role": [f"Choose one of: {_ROLE_WORDS}."]})
    return str(role)


def manageable(by: Any, project_ref: Any) -> Project:
    """The project, when ``by`` may manage it (NotFound / NotPermitted otherwise)."""
    return require_capability(by, project_ref, Capability.MANAGE,
                              doing="manage the project's members")


def require_admin(by: Any, doing: str) -> None:
    """Refuse anyone but a platform admin (checked before the input is read)."""
    if not getattr(by, "is_platform_admin", False):
        raise NotPermitted(f"Only a platform admin can {doing}.")


def _email(value: Any) -> str:
    email = clean_text("email", value, limit=254, required=True)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(f"{echo(email)} is not an e-mail address.",
                           errors={"email": ["Give an e-mail address like name@example.com."]}
                           ) from None
    return email


def find_user(who: Any) -> Any:
    """The active user with this username or e-mail (either, case-insensitive for e-mail)."""
    who = clean_text("user", who, limit=254, required=True)
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(username=who).first()
    if user is None and "@" in who:
        matches = list(users.filter(email__iexact=who)[:2])
        user = matches[0] if len(matches) == 1 else None
    if user is None:
        raise NotFound(f"No one with the username or e-mail {echo(who)} has an account; "
                       f"invite them by e-mail instead.",
                       errors={"user": ["No account with this username or e-mail."]})
    return user


def _membership(project: Project, member_ref: Any, *, lock: bool = False) -> Membership:
    """The member by user id or username (NotFound otherwise)."""
    rows = Membership.objects.filter(project=project).select_related("user")
    if lock:
        rows = rows.select_for_update()
    ref = str(member_ref)
    match = Q(user__username=ref)
    if ref.isascii() and ref.isdigit() and len(ref) < 19:
        match |= Q(user_id=int(ref))
    membership = rows.filter(match).first()
    if membership is None:
        raise NotFound(f"{echo(member_ref)} is not a member of {project.name}.")
    return membership


def _refuse_last_owner(project: Project, membership: Membership, doing: str) -> None:
    """Lock the owners' rows; refuse when ``membership`` is the only one left."""
    owners = list(Membership.objects.select_for_update().filter(
        project=project, role=ProjectRole.OWNER).values_list("pk", flat=True))
    if owners == [membership.pk]:
        raise Conflict(f"{membership.user.get_username()} is the last owner of "
                       f"{project.name}, so they cannot be {doing}. Make someone else an "
                       f"owner first.")


# -- reads --------------------------------------------------------------------------------
def members_of(user: Any, project_ref: Any) -> tuple[Project, QuerySet[Membership]]:
    """The project and its members, for anyone who can see the project."""
    project = require_capability(user, project_ref, Capability.VIEW, doing="see the project")
    rows = (Membership.objects.filter(project=project).select_related("user")
            .order_by("user__username"))
    return project, rows


def member(project: Project, member_ref: Any) -> Membership:
    """One member of ``project`` by user id or username (the caller checked visibility)."""
    return _membership(project, member_ref)


def pending_invitations(project: Project) -> QuerySet[Invitation]:
    """Invitations not yet accepted and not expired (what owners see)."""
    return Invitation.objects.filter(project=project, accepted_at__isnull=True,
                                     expires_at__gt=timezone.now()).select_related("invited_by")


def can_manage(user: Any, project: Project) -> bool:
    """Whether ``user`` may change the project's members and details."""
    return Project.objects.visible_to(user, Capability.MANAGE).filter(pk=project.pk).exists()


# -- teams and projects -------------------------------------------------------------------
def create_team(by: Any, *, name: Any, slug: Any = "") -> Team:
    """A new team (platform admins only)."""
    require_admin(by, "create teams")
    name = clean_text("name", name, limit=NAME_CHARS, required=True)
    slug = clean_text("slug", slug, limit=60, required=False)
    return _create_team(name, slug=slug)


def create_project(by: Any, *, team: Any, name: Any, slug: Any = "",
                   description: Any = "", owner: Any = None) -> Project:
    """A new project in ``team`` (platform admins only), optionally with its first owner."""
    require_admin(by, "create projects")
    name = clean_text("name", name, limit=NAME_CHARS, required=True)
    slug = clean_text("slug", slug, limit=60, required=False)
    description = clean_text("description", description, limit=DESCRIPTION_CHARS, required=False)
    found = Team.objects.filter(slug=str(team)).first()
    if found is None:
        raise InvalidInput(f"No team {echo(team)}.", errors={"team": ["No such team."]})
    with transaction.atomic():
        project = _create_project(found, name, slug=slug, description=description)
        if owner not in (None, ""):
            add_member(by, project, user=owner, role=ProjectRole.OWNER)
    return project


def update_project(by: Any, project_ref: Any, *, name: Any = None,
                   description: Any = None) -> Project:
    """Change the project's name or description (owners and admins)."""
    project = require_capability(by, project_ref, Capability.MANAGE, doing="edit the project")
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = clean_text("name", name, limit=NAME_CHARS, required=True)
    if description is not None:
        changes["description"] = clean_text("description", description,
                                       limit=DESCRIPTION_CHARS, required=False)
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        before = {k: getattr(project, k) for k in changes if getattr(project, k) != changes[k]}
        if not before:
            return project
        for key in before:
            setattr(project, key, changes[key])
        project.save(update_fields=list(before))
        record("studio.project.changed", target=project, actor=actor_for(by),
               data={"before": before, "after": {k: changes[k] for k in before}})
    return project


# -- members ------------------------------------------------------------------------------
def add_member(by: Any, project_ref: Any, *, user: Any, role: Any) -> Membership:
    """Give an existing user (username or e-mail) a role; they must not be a member yet."""
    project = manageable(by, project_ref)
    role = _role(role)
    person = find_user(user)
    with transaction.atomic():
        if Membership.objects.filter(project=project, user=person).exists():
            raise Conflict(f"{person.get_username()} is already a member of {project.name}; "
                           f"change their role instead.")
        membership = Membership.objects.create(project=project, user=person, role=role)
        record("studio.membership.granted", target=membership, actor=actor_for(by),
               project_id=project.pk, data={"user": person.get_username(), "role": role})
    return membership


def change_role(by: Any, project_ref: Any, member: Any, *, role: Any) -> Membership:
    """Change a member's role; the last owner cannot be demoted."""
    project = manageable(by, project_ref)
    role = _role(role)
    with transaction.atomic():
        membership = _membership(project, member, lock=True)
        if membership.role == role:
            return membership
        if membership.role == ProjectRole.OWNER:
            _refuse_last_owner(project, membership, f"made {role}")
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        record("studio.membership.changed", target=membership, actor=actor_for(by),
               project_id=project.pk,
               data={"user": membership.user.get_username(), "before": before, "after": role})
    return membership


def remove_member(by: Any, project_ref: Any, member: Any) -> None:
    """Remove a member; the last owner cannot be removed."""
    project = manageable(by, project_ref)
    with transaction.atomic():
        membership = _membership(project, member, lock=True)
        if membership.role == ProjectRole.OWNER:
            _refuse_last_owner(project, membership, "removed")
        record("studio.membership.removed", target=membership, actor=actor_for(by),
               project_id=project.pk,
               data={"user": membership.user.get_username(), "role": membership.role})
        membership.delete()


# -- invitations --------------------------------------------------------------------------
def invite(by: Any, project_ref: Any, *, email: Any, role: Any,
           link: Callable[[str], str]) -> tuple[Invitation, str]:
    """Send a one-time link to ``email``; returns the invitation and its raw secret.

    ``link`` turns the secret into the absolute URL of the accept page (the face knows its
    host). The mail goes out after the transaction commits, so a rollback sends nothing.
    """
    project = manageable(by, project_ref)
    role = _role(role)
    email = _email(email)
    if Membership.objects.filter(project=project, user__email__iexact=email).exists():
        raise Conflict(f"Someone with the e-mail {email} is already a member of "
                       f"{project.name}.")
    raw = secrets.token_urlsafe(32)
    url = link(raw)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            project=project, email=email, role=role, digest=token_digest(raw), invited_by=by,
            expires_at=timezone.now() + timedelta(days=INVITE_DAYS))
        record("studio.invitation.sent", target=invitation, actor=actor_for(by),
               project_id=project.pk, data={"email": email, "role": role,
                                            "expires_at": invitation.expires_at.isoformat()})
        inviter = by.get_full_name() or by.get_username()
        body = (f"{inviter} invites you to the project {project.name} on Assay as "
                f"{ProjectRole(role).label.lower()}.\n\nOpen this link to accept (it works "
                f"once, for {INVITE_DAYS} days):\n{url}\n")
        transaction.on_commit(lambda: send_mail(
            f"[Assay] You are invited to {project.name}", body, None, [email],
            fail_silently=True))
    return invitation, raw


def open_invitation(key: Any) -> Invitation:
    """The invitation behind a link, while it still works (NotFound otherwise)."""
    if not isinstance(key, str) or not key or len(key) > 100:
        raise NotFound("This invitation link is not valid.")
    invitation = (Invitation.objects.select_related("project", "invited_by")
                  .filter(digest=token_digest(key)).first())
    if invitation is None:
        raise NotFound("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was used already; ask the project's owner for a new "
                       "one if you still need access.")
    if invitation.expires_at <= timezone.now():
        raise Conflict(f"This invitation expired on {invitation.expires_at:%Y-%m-%d %H:%M} "
                       f"UTC; ask the project's owner for a new one.")
    return invitation


def accept_invitation(user: Any, key: Any) -> Membership:
    """Make the signed-in ``user`` a member; the link works once and only for its e-mail."""
    invitation = open_invitation(key)
    if (user.email or "").strip().lower() != invitation.email.lower():
        raise NotPermitted(f"This invitation was sent to {invitation.email}; sign in with "
                           f"the account that has that e-mail address.")
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise Conflict("This invitation was used already.")
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        membership = Membership.objects.filter(project=locked.project, user=user).first()
        if membership is None:
            membership = Membership.objects.create(project=locked.project, user=user,
                                                   role=locked.role)
        record("studio.invitation.accepted", target=locked, actor=actor_for(user),
               project_id=locked.project_id,
               data={"user": user.get_username(), "role": membership.role})
    return membership


def sign_up_and_accept(key: Any, *, username: Any, password: Any) -> Any:
    """Create the account for the invited e-mail and accept; returns the new user.

    Only when no account has that e-mail yet: otherwise the invitee signs in and accepts,
    so nobody can take over an existing person's invitation.
    """
    invitation = open_invitation(key)
    username = clean_text("username", username, limit=150, required=True)
    if not isinstance(password, str) or not password:
        raise InvalidInput("Choose a password.", errors={"password": ["This is required."]})
    users = get_user_model().objects
    if users.filter(email__iexact=invitation.email).exists():
        raise Conflict(f"An account with the e-mail {invitation.email} exists already: sign "
                       f"in with it to accept.")
    if users.filter(username=username).exists():
        raise InvalidInput(f"The username {echo(username)} is taken; choose another.",
                           errors={"username": ["This username is taken."]})
    try:
        validate_password(password, users.model(username=username, email=invitation.email))
    except ValidationError as exc:
        raise InvalidInput("Choose a stronger password: " + " ".join(exc.messages),
                           errors={"password": list(exc.messages)}) from None
    with transaction.atomic():
        user = create_user(username, password, email=invitation.email)
        accept_invitation(user, key)
    return user
