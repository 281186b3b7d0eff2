from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Server-rendered pages with htmx for live job progress."""

    name = "assay.portal"
    label = "portal"
    verbose_name = "Portal"
