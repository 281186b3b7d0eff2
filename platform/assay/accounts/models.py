"""Users, teams and API tokens."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from assay.accounts.choices import GlobalRole, TokenScope, TokenStatus
from assay.accounts.querysets import APITokenQuerySet


class User(AbstractUser):
    """A person. Project roles are memberships; auditor and admin are global roles."""

    global_role = models.CharField(
        max_length=10, choices=GlobalRole.choices, default=GlobalRole.NONE, blank=True
    )

    @property
    def is_auditor(self) -> bool:
        """Auditors read every project's records; they never generate or decide."""
        return self.global_role == GlobalRole.AUDITOR

    @property
    def is_platform_admin(self) -> bool:
        """Platform admins see and manage everything."""
        return self.global_role == GlobalRole.ADMIN or self.is_superuser


class Team(models.Model):
    """An organisation unit owning projects (quotas attach here later)."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


def token_digest(raw: str) -> str:
    """Tokens are stored as SHA-256 digests; the raw value is shown once at issue."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class APIToken(models.Model):
    """A hashed, expiring, revocable API token (DRF's built-in Token is plaintext and never
    expires). A read-scope token is refused on every unsafe method."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=5, choices=TokenScope.choices, default=TokenScope.WRITE)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = APITokenQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        """Not revoked and not expired."""
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def status(self) -> str:
        """``revoked``, ``expired`` or ``active``: what a list shows."""
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        return TokenStatus.ACTIVE if self.expires_at > timezone.now() else TokenStatus.EXPIRED


class ExternalIdentity(models.Model):
    """The provider account (OIDC issuer + subject) a user signs in with.

    Users are matched on this pair, never on a username or e-mail the provider sends, so a
    provider account cannot take over a local account that happens to share its name.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="identity")
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    groups = models.JSONField(default=list, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("issuer", "subject"), name="one_user_per_identity"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class ProviderMembership(models.Model):
    """Marks a project membership as granted by the provider's group mapping.

    Only marked memberships are changed or removed when the user's groups change; a role
    an owner granted by hand is left alone.
    """

    identity = models.ForeignKey(ExternalIdentity, on_delete=models.CASCADE,
                                 related_name="managed_memberships")
    membership = models.OneToOneField("studio.Membership", on_delete=models.CASCADE,
                                      related_name="provider_grant")

    def __str__(self) -> str:
        return f"{self.membership} (from the provider)"
