from django.apps import AppConfig


class GenerationConfig(AppConfig):
    """The generation job (submission, leases, worker runtime, sweeper) and the model
    registry: one place for everything a job is."""

    name = "assay.generation"
    label = "generation"
    verbose_name = "Generation"

    def ready(self) -> None:
        """Register the job's and the registry's audit action codes."""
        from assay.generation import events  # noqa: F401
