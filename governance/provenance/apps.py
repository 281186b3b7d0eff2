from django.apps import AppConfig


class ProvenanceConfig(AppConfig):
    """Approved assets are signed with a C2PA manifest bound to their approval record."""

    name = "governance.provenance"
    label = "provenance"
    verbose_name = "Provenance"

    def ready(self) -> None:
        """Register the action codes and sign assets when their approval commits."""
        from governance.provenance import events  # noqa: F401
