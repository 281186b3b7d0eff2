from django.apps import AppConfig


class GenerationConfig(AppConfig):
    """Worker-side code: claims, model cache, devices, the sweeper and demo models."""

    name = "assay.generation"
    label = "generation"
    verbose_name = "Generation runtime"
