from django.apps import AppConfig


class StudioConfig(AppConfig):
    """Where creators work: projects and members, prompt templates, assets."""

    name = "assay.studio"
    label = "studio"
    verbose_name = "Studio"

    def ready(self) -> None:
        """Register the studio's audit action codes."""
        from assay.studio import events  # noqa: F401
