from django.apps import AppConfig


class PublishingConfig(AppConfig):
    """Publishers after signing: per-project webhook endpoints, deliveries and attempts."""

    name = "governance.publishing"
    label = "publishing"
    verbose_name = "Publishing"

    def ready(self) -> None:
        """Register the action codes this app records."""
        from governance.publishing import events  # noqa: F401
