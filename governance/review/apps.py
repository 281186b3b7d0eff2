from django.apps import AppConfig


class ReviewConfig(AppConfig):
    """Checks run when an asset is stored; editors decide under the project's policy."""

    name = "governance.review"
    label = "review"
    verbose_name = "Review"

    def ready(self) -> None:
        """Register the action codes (checks start through the assets_stored hook)."""
        from governance.review import events  # noqa: F401
