from django.apps import AppConfig


class StudioConfig(AppConfig):
    """Where creators work: projects, prompt templates, jobs and their assets."""

    name = "assay.studio"
    label = "studio"
    verbose_name = "Studio"
