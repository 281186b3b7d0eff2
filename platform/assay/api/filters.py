"""Query filters of the API's list endpoints (django-filter): each parameter is declared,
typed and documented in the schema; a bad value is a 400 that names it."""

from __future__ import annotations

import django_filters

from assay.generation.choices import JobStatus
from assay.generation.models import GenerationJob
from assay.studio.choices import Modality
from assay.studio.models import Asset


class GenerationFilter(django_filters.FilterSet):
    """``/generations/?project=<slug>&status=<status>``."""

    project = django_filters.CharFilter(field_name="project__slug", max_length=100,
                                        help_text="A project's slug.")
    status = django_filters.ChoiceFilter(choices=JobStatus.choices,
                                         help_text="Only jobs in this status.")

    class Meta:
        model = GenerationJob
        fields = ("project", "status")


class AssetFilter(django_filters.FilterSet):
    """``/assets/?project=<slug>&kind=<kind>&job=<id>``."""

    project = django_filters.CharFilter(field_name="project__slug", max_length=100,
                                        help_text="A project's slug.")
    kind = django_filters.ChoiceFilter(choices=Modality.choices, help_text="text, image, …")
    job = django_filters.UUIDFilter(field_name="job_id", help_text="The job that made it.")

    class Meta:
        model = Asset
        fields = ("project", "kind", "job")
