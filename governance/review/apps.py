from django.apps import AppConfig


class ReviewConfig(AppConfig):
    """Checks run when an asset is stored; editors decide under the project's policy."""

    name = "governance.review"
    label = "review"
    verbose_name = "Review"

    def ready(self) -> None:
        """Register action codes and start checks when assets are stored."""
        from governance.review import actions, receivers  # noqa: F401
