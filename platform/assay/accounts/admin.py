from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from assay.accounts.models import APIToken, Team, User


@admin.register(User)
class AssayUserAdmin(UserAdmin):
    """Adds the global role to Django's user admin."""

    fieldsets = (*UserAdmin.fieldsets, ("Assay", {"fields": ("global_role",)}))
    list_display = ("username", "email", "global_role", "is_active")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("digest", "prefix")
