from django.contrib import admin

from assay.audit.models import AuditEvent
from assay.core.admin_mixins import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "seq", "created_at", "action", "actor_display", "target_display",
                    "correlation_id")
    list_filter = ("action", "actor_kind")
    search_fields = ("correlation_id", "target_id", "actor_display")
