from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Audit events and the action-code registry."""

    name = "assay.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        """Register the audit log's own action codes and hook login/logout signals."""
        from assay.audit import events, signals  # noqa: F401
