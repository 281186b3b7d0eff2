from django.apps import AppConfig


class UsageConfig(AppConfig):
    """Per-job usage records, monthly quotas and the auditors' usage roll-ups."""

    name = "governance.usage"
    label = "usage"
    verbose_name = "Usage and quotas"

    def ready(self) -> None:
        """Register the action codes this app records."""
        from governance.usage import events  # noqa: F401
