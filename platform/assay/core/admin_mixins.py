"""Admin pages that only read: state changes must go through audited services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """List and inspect rows; adding, changing and deleting happen through services only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """No adding from the admin."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """No editing from the admin."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """No deleting from the admin."""
        return False
