"""Query filters of the API's list endpoints (django-filter): each parameter is declared,
typed and documented in the schema; a bad value is a 400 that names it."""

from __future__ import annotations

import django_filters

from assay.generation.choices import JobStatus
from assay.generation.models import GenerationJob
from governance.provenance import library


class GenerationFilter(django_filters.FilterSet):
    """``/generations/?project=<slug>&status=<status>``."""

    project = django_filters.CharFilter(field_name="project__slug", max_length=100,
                                        help_text="A project's slug.")
    status = django_filters.ChoiceFilter(choices=JobStatus.choices,
                                         help_text="Only jobs in this status.")

    class Meta:
        model = GenerationJob
        fields = ("project", "status")


# The asset library's filters serve the portal too, so they live below both faces.
AssetFilter = library.AssetFilter
