"""The asset library: every asset a user may see, with its review state and signature, and
the one FilterSet (django-filter) both faces use (the portal's library page and
``GET /api/v1/assets/``), so their filters can never disagree.

It lives here, not in a face, because the two faces may not import each other and the
filter reads both governance apps (a review's state, a signature). The filters work on
any Asset queryset (each builds its own subquery); :func:`library` adds the same facts as
annotations for showing them, so a page of assets costs a fixed number of queries.

An edited text has no job of its own; its template, prompt and variables are its
*origin* job's (the nearest ancestor's), found through :data:`ORIGIN_DEPTH` parents.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.functions import Cast, Coalesce

from assay.generation.models import GenerationJob
from assay.studio.choices import Modality
from assay.studio.models import Asset
from assay.studio.models.assets import REVISION_KEYS
from governance.provenance.models import SignedAsset
from governance.review.choices import ReviewStatus
from governance.review.models import Review

__all__ = ("NOT_SUBMITTED", "ORIGIN_DEPTH", "REVIEW_STATES", "SORTS", "AssetFilter",
           "attach_origins", "has_newer", "library", "review_state", "signed")

#: How many parents an edited version's origin job is looked for through (edits of edits).
ORIGIN_DEPTH = 4
#: The review-state value of an asset never submitted for review.
NOT_SUBMITTED = "none"
REVIEW_STATES = [(NOT_SUBMITTED, "Not in review yet"), *ReviewStatus.choices]
SORTS = [("newest", "Newest first"), ("oldest", "Oldest first")]


# -- the facts, as subqueries --------------------------------------------------------------
def review_state() -> Subquery:
    """The status of the asset's latest review (NULL: never submitted)."""
    return Subquery(Review.objects.filter(asset=OuterRef("pk"))
                    .order_by("-submitted_at", "-pk").values("status")[:1])


def signed() -> Exists:
    """Whether the asset's current content has a signed copy (Content Credentials)."""
    return Exists(SignedAsset.objects.filter(asset=OuterRef("pk"),
                                             source_sha256=OuterRef("sha256")))


def has_newer() -> Exists:
    """Whether a newer version (an edit or a regenerated revision) was made from it."""
    versions = Q()
    for key in REVISION_KEYS:
        versions |= Q(metadata__has_key=key)
    return Exists(Asset.objects.filter(versions, parent=OuterRef("pk")))


def _origin_job() -> Coalesce:
    """The asset's own job, else its nearest ancestor's (an edited text has none)."""
    steps = ["job_id", *("__".join(["parent"] * n + ["job_id"]) for n in
                         range(1, ORIGIN_DEPTH + 1))]
    return Coalesce(*steps)


def library(user: Any) -> QuerySet:
    """The assets ``user`` may see, newest first, with what the library shows of each:
    ``review_status``, ``is_signed``, ``has_newer`` and ``origin_job_id``."""
    return (Asset.objects.visible_to(user)
            .select_related("project", "created_by", "job__prompt_version__template")
            .annotate(review_status=review_state(), is_signed=signed(),
                      has_newer=has_newer(), origin_job_id=_origin_job())
            .order_by("-created_at", "index"))


def attach_origins(assets: list[Asset]) -> list[Asset]:
    """Set ``asset.origin`` (the job that made it or its nearest ancestor) on each, with
    one query for the page, so an edited text shows its template and prompt too."""
    wanted = {a.origin_job_id for a in assets if getattr(a, "origin_job_id", None)}
    wanted -= {a.job_id for a in assets if a.job_id}
    jobs = {j.pk: j for j in GenerationJob.objects.filter(pk__in=wanted).select_related(
        "prompt_version__template")} if wanted else {}
    for asset in assets:
        origin_id = getattr(asset, "origin_job_id", None) or asset.job_id
        asset.origin = asset.job if asset.job_id else jobs.get(origin_id)
    return assets


def _origin_jobs(qs: QuerySet, jobs: QuerySet) -> QuerySet:
    """Assets whose origin job is one of ``jobs``."""
    return qs.alias(_origin=_origin_job()).filter(_origin__in=jobs.values("pk"))


# -- the FilterSet -------------------------------------------------------------------------
class AssetFilter(django_filters.FilterSet):
    """``/assets/?project=&template=&kind=&review_state=&signed=&creator=&created_after=
    &created_before=&q=&latest=&sort=``: each narrows the list; together they all apply.

    ``q`` searches the prompt as rendered and the variables typed in (the origin job's,
    for an edited text), case-insensitively.
    """

    project = django_filters.CharFilter(field_name="project__slug", max_length=100,
                                        label="Project", help_text="A project's slug.")
    template = django_filters.CharFilter(method="filter_template", max_length=100,
                                         label="Template",
                                         help_text="A prompt template's slug.")
    kind = django_filters.ChoiceFilter(choices=Modality.choices, label="Type",
                                       help_text="text, image, …")
    job = django_filters.UUIDFilter(field_name="job_id", label="Job",
                                    help_text="The job that made it.")
    review_state = django_filters.ChoiceFilter(
        choices=REVIEW_STATES, method="filter_review_state", label="Review",
        help_text="The latest review's status; none: never submitted for review.")
    signed = django_filters.BooleanFilter(
        method="filter_signed", label="Signed",
        help_text="true: has Content Credentials (signed after approval); false: not yet.")
    creator = django_filters.CharFilter(field_name="created_by__username", max_length=150,
                                        label="Made by",
                                        help_text="The username of who made this version.")
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte",
                                              label="From",
                                              help_text="Made on or after this day (YYYY-MM-DD).")
    created_before = django_filters.DateFilter(field_name="created_at",
                                               lookup_expr="date__lte", label="To",
                                               help_text="Made on or before this day "
                                                         "(YYYY-MM-DD).")
    q = django_filters.CharFilter(method="filter_search", max_length=200, label="Search",
                                  help_text="Words in the prompt or the variables.")
    latest = django_filters.BooleanFilter(
        method="filter_latest", label="Newest versions only",
        help_text="true: leave out versions that have a newer version.")
    sort = django_filters.ChoiceFilter(choices=SORTS, method="filter_sort", label="Sort",
                                       empty_label=None,
                                       help_text="newest (the default) or oldest first.")

    class Meta:
        model = Asset
        fields = ("project", "template", "kind", "job", "review_state", "signed", "creator",
                  "created_after", "created_before", "q", "latest", "sort")

    def filter_template(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """Made with a version of this template (an edit: its origin was)."""
        return _origin_jobs(qs, GenerationJob.objects.filter(
            prompt_version__template__slug=value))

    def filter_review_state(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """The latest review is in this state (``none``: never submitted)."""
        qs = qs.alias(_review=review_state())
        return qs.filter(_review__isnull=True) if value == NOT_SUBMITTED else qs.filter(
            _review=value)

    def filter_signed(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Has (or has not) a signed copy of its current content."""
        return qs if value is None else qs.filter(signed() if value else ~signed())

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """The words appear in the rendered prompt or the variables."""
        words = value.strip()
        if not words:
            return qs
        jobs = GenerationJob.objects.alias(_vars=Cast("variables", TextField())).filter(
            Q(rendered_prompt__icontains=words) | Q(_vars__icontains=words))
        return _origin_jobs(qs, jobs)

    def filter_latest(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Only versions nothing newer was made from."""
        return qs.filter(~has_newer()) if value else qs

    def filter_sort(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """Newest (default) or oldest first."""
        return qs.order_by("created_at", "index") if value == "oldest" else qs.order_by(
            "-created_at", "index")
