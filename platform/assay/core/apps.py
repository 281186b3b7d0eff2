from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Registers management commands (plugins, bootstrap_demo) and system checks."""

    name = "assay.core"
    label = "core"
    verbose_name = "Assay core"
