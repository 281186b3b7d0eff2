"""Roles. Project roles live on memberships; global roles live on the user."""

from django.db import models


class GlobalRole(models.TextChoices):
    """Roles that span every project."""

    NONE = "", "None"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Admin"


class ProjectRole(models.TextChoices):
    """A member's role in one project."""

    CREATOR = "creator", "Creator"
    REVIEWER = "reviewer", "Reviewer"
    OWNER = "owner", "Owner"


class Capability(models.TextChoices):
    """What a role may do in a project; querysets and services ask for capabilities."""

    VIEW = "view", "See the project"
    GENERATE = "generate", "Write prompts and run generations"
    REVIEW = "review", "Decide on assets under review"
    MANAGE = "manage", "Manage members, brand kit and policy"


ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    ProjectRole.CREATOR: frozenset({Capability.VIEW, Capability.GENERATE}),
    ProjectRole.REVIEWER: frozenset({Capability.VIEW, Capability.REVIEW}),
    ProjectRole.OWNER: frozenset(
        {Capability.VIEW, Capability.GENERATE, Capability.REVIEW, Capability.MANAGE}
    ),
}


def roles_with(capability: str) -> list[str]:
    """Project roles that grant ``capability``."""
    return [role for role, caps in ROLE_CAPABILITIES.items() if capability in caps]


class TokenScope(models.TextChoices):
    """What an API token may do: read-only tokens are refused on every unsafe method."""

    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class TokenStatus(models.TextChoices):
    """Whether a token still authenticates (computed from its expiry and revocation)."""

    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
