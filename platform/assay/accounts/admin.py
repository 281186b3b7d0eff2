from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from assay.accounts.models import APIToken, ExternalIdentity, Team, User
from assay.audit.context import Actor
from assay.audit.services import record
from assay.core.admin_mixins import ReadOnlyAdmin


@admin.register(User)
class AssayUserAdmin(UserAdmin):
    """Adds the global role to Django's user admin."""

    fieldsets = (*UserAdmin.fieldsets, ("Assay", {"fields": ("global_role",)}))
    list_display = ("username", "email", "global_role", "is_active")

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Admin edits of users are state changes too: record which fields changed."""
        super().save_model(request, obj, form, change)
        record("accounts.user.changed" if change else "accounts.user.created", target=obj,
               actor=Actor.for_user(request.user),
               data={"fields": sorted(form.changed_data)})


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "created_at")


@admin.register(APIToken)
class APITokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "scope", "prefix", "expires_at", "revoked_at",
                    "last_used_at")
    readonly_fields = ("digest", "prefix")


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ReadOnlyAdmin):
    """Which provider account each single sign-on user is; changed only by signing in."""

    list_display = ("user", "subject", "issuer", "last_synced_at")
