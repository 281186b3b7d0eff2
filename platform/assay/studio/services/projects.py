"""Projects and memberships."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from assay.accounts.choices import ROLE_CAPABILITIES, ProjectRole
from assay.accounts.models import Team
from assay.audit.services import record
from assay.core.exceptions import InvalidInput, NotFound, NotPermitted
from assay.core.numbers import parse_id
from assay.core.slugs import clean_slug
from assay.studio.models import Membership, Project


@transaction.atomic
def create_project(team: Team, name: str, *, slug: str = "", description: str = "") -> Project:
    """Create a project in ``team``."""
    slug = clean_slug(name, slug, noun="project")
    if Project.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A project with slug {slug!r} exists already.")
    project = Project.objects.create(team=team, name=name, slug=slug, description=description)
    record("studio.project.created", target=project, data={"team": team.slug})
    return project


@transaction.atomic
def grant_role(project: Project, user: Any, role: str) -> Membership:
    """Give ``user`` a role in ``project`` (changing it if they had another)."""
    if role not in ProjectRole.values:
        raise InvalidInput(f"Unknown role {role!r}; use one of {', '.join(ProjectRole.values)}.")
    membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
    if membership is None:
        membership = Membership.objects.create(project=project, user=user, role=role)
        record("studio.membership.granted", target=membership, project_id=project.pk,
               data={"user": user.username, "role": role})
    elif membership.role != role:
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        record("studio.membership.changed", target=membership, project_id=project.pk,
               data={"user": user.username, "before": before, "after": role})
    return membership


def role_in(user: Any, project: Project) -> str | None:
    """The user's project role, or None."""
    return (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )


def require_capability(user: Any, project_ref: Any, capability: str, *, doing: str) -> Project:
    """Find a project the user can see and check they may do ``doing`` in it.

    Args:
        project_ref: a Project, its primary key or its slug.
        doing: the action in words, for the refusal message ("submit generations").

    Raises:
        NotFound: the project does not exist or the user is not a member (the same answer
            for both, so membership cannot be probed).
        NotPermitted: the user is a member whose role lacks ``capability``.
    """
    visible = Project.objects.visible_to(user)
    if isinstance(project_ref, Project):
        project = visible.filter(pk=project_ref.pk).first()
    elif parse_id(project_ref) is not None:
        project = visible.filter(pk=parse_id(project_ref)).first()
    else:
        project = visible.filter(slug=str(project_ref)).first()
    if project is None:
        raise NotFound(f"No project {project_ref!s} that you are a member of.",
                       errors={"project": ["not found among your projects"]})
    if Project.objects.visible_to(user, capability).filter(pk=project.pk).exists():
        return project
    role = role_in(user, project) or ("auditor" if getattr(user, "is_auditor", False) else "none")
    allowed = [r for r, caps in ROLE_CAPABILITIES.items() if capability in caps]
    raise NotPermitted(
        f"Your role in project '{project.slug}' is {role}; to {doing} you need the role "
        f"{' or '.join(allowed)}.",
        errors={"project": [f"role {role} cannot {doing}"]},
    )
