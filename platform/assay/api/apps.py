from django.apps import AppConfig


class ApiConfig(AppConfig):
    """REST endpoints; every viewset scopes its queryset through ``visible_to``."""

    name = "assay.api"
    label = "api"
    verbose_name = "REST API"
