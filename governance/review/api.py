"""REST for review: the queue, decisions, comments, check results, kit and policy.

Every write is checked by an input serializer (types, lengths, unknown fields) and then
handed to the review policy's action, which holds the rules; refusals keep its words.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import URLValidator
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.fields import empty
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.accounts.choices import Capability
from assay.core.inputs import (
    InputSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictListField,
    StrictMapField,
    text_problem,
)
from assay.core.rest import ScopedViewSet
from assay.studio.models import Asset, Project
from assay.studio.services.projects import require_capability
from governance.review import brand, fact_csv, workflow
from governance.review.choices import (
    DEFAULT_BLOCKING,
    MAX_COMMENT_CHARS,
    MAX_STAGES,
    ReviewStatus,
)
from governance.review.filters import ReviewFilter
from governance.review.models import (
    ApprovedFact,
    CheckResult,
    Comment,
    Decision,
    Review,
)

# --- input ---------------------------------------------------------------------------


class DecisionInput(InputSerializer):
    """``POST /reviews/{id}/decisions/``: the decision on the version you saw."""

    decision = StrictCharField(max_length=20, help_text="approve, reject or request_changes.")
    content_sha256 = StrictCharField(
        max_length=64, help_text="The SHA-256 of the version you reviewed.",
        error_messages={"required": "Send the content_sha256 of the version you reviewed."})
    comment = StrictCharField(required=False, allow_blank=True, trim_whitespace=False,
                              max_length=MAX_COMMENT_CHARS,
                              help_text="Why; required to reject or request changes.")
    overrides = StrictMapField(
        child=StrictCharField(allow_blank=True, trim_whitespace=False,
                              max_length=MAX_COMMENT_CHARS),
        required=False, max_items=100,
        help_text="Check id → the reason to approve past its warning or failure.")


class CommentInput(InputSerializer):
    """``POST /reviews/{id}/comments/``: text, optionally anchored to a span or region."""

    body = StrictCharField(allow_blank=True, trim_whitespace=False,
                           max_length=MAX_COMMENT_CHARS, help_text="The comment.")
    span = StrictListField(child=StrictIntegerField(min_value=0), min_length=2, max_length=2,
                           required=False, allow_null=True,
                           help_text="[start, end) character offsets in a text asset.")
    region = StrictListField(child=StrictIntegerField(min_value=0), min_length=4,
                             max_length=4, required=False, allow_null=True,
                             help_text="[x, y, width, height] in pixels of an image asset.")
    time_start = StrictFloatField(required=False, allow_null=True, min_value=0,
                                  help_text="Seconds into an audio or video asset: the moment "
                                            "commented on, or the start of a range.")
    time_end = StrictFloatField(required=False, allow_null=True, min_value=0,
                                help_text="Seconds: the end of the range (after time_start, "
                                          "within the duration).")


class SubmitInput(InputSerializer):
    """``POST /assets/{id}/submit-review/``: nothing to send (an empty object)."""


class ReviseInput(InputSerializer):
    """``POST /assets/{id}/revise/``: the edited text (at most ASSAY_MAX_TEXT_CHARS)."""

    text = StrictCharField(allow_blank=True, trim_whitespace=False,
                           help_text="The new text; saved as a new version, exactly as sent.")


# --- output --------------------------------------------------------------------------


class CheckResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckResult
        fields = ("check_id", "check_version", "plugin", "status", "severity", "score",
                  "summary", "evidence", "content_sha256", "created_at")


class DecisionSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username")

    class Meta:
        model = Decision
        fields = ("stage_index", "stage_name", "reviewer", "reviewer_role", "decision",
                  "comment", "content_sha256", "overrides", "created_at")


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")
    span = serializers.SerializerMethodField()
    #: Typed for the schema (the model field is plain JSON): [x, y, width, height] or null.
    region = serializers.ListField(child=serializers.IntegerField(min_value=0), min_length=4,
                                   max_length=4, allow_null=True, read_only=True,
                                   help_text="[x, y, width, height] in image pixels.")

    class Meta:
        model = Comment
        fields = ("id", "author", "body", "span", "region", "time_start", "time_end",
                  "created_at")

    def get_span(self, obj: Comment) -> list[int] | None:
        """[start, end) in the text, when anchored to one."""
        return None if obj.span_start is None else [obj.span_start, obj.span_end]


class ReviewSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug")
    asset = serializers.SerializerMethodField()
    current_stage = serializers.SerializerMethodField()
    checks = serializers.SerializerMethodField()
    decisions = DecisionSerializer(many=True, read_only=True)
    comments = CommentSerializer(many=True, read_only=True)

    class Meta:
        model = Review
        fields = ("id", "project", "status", "content_sha256", "stages", "stage_index",
                  "current_stage", "blocking_severities", "stage_started_at", "submitted_at",
                  "finished_at", "asset", "checks", "decisions", "comments")

    def get_asset(self, obj: Review) -> dict[str, Any]:
        """The version under review (text inline, media by link)."""
        a = obj.asset
        return {"id": str(a.pk), "kind": a.kind, "media_type": a.media_type,
                "sha256": a.sha256, "text": a.text if a.kind == "text" else None,
                "content_url": f"/api/v1/assets/{a.pk}/content/",
                "generated_by": obj.generated_by.username if obj.generated_by else None}

    def get_current_stage(self, obj: Review) -> dict[str, Any] | None:
        """The stage being decided."""
        return obj.current_stage

    def get_checks(self, obj: Review) -> list[dict[str, Any]]:
        """Check results for exactly this content hash."""
        rows = [r for r in obj.asset.check_results.all()
                if r.content_sha256 == obj.content_sha256]
        return CheckResultSerializer(rows, many=True).data


class ReviewSubmittedSerializer(serializers.Serializer):
    review = serializers.IntegerField(help_text="The review's id.")
    status = serializers.ChoiceField(choices=ReviewStatus.choices)


class RevisedSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The new version's asset id.")
    sha256 = serializers.CharField()
    parent = serializers.CharField(help_text="The asset it was edited from.")


@extend_schema_view(list=extend_schema(summary="Reviews in your projects"),
                    retrieve=extend_schema(summary="One review: version, checks, decisions"))
class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Reviews in the user's projects; ``?awaiting_me=true`` is the reviewer's queue."""

    model = Review
    related = ("project", "asset", "generated_by", "submitted_by")
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self) -> QuerySet:
        """Scoped, with decisions, comments and check results prefetched."""
        return super().get_queryset().prefetch_related(
            "decisions__reviewer", "comments__author", "asset__check_results")

    @extend_schema(summary="Decide on a review", request=DecisionInput,
                   responses={201: ReviewSerializer},
                   description="Approve, reject or request changes at the current stage, "
                               "pinned to the content hash you saw. 403 when the policy "
                               "does not let you decide; 409 when the review moved on.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def decisions(self, request: Request, pk: str | None = None) -> Response:
        """Approve, reject or request changes, pinned to the content hash seen."""
        review = self.get_object()  # a review you cannot see is a 404 whatever the body
        review = workflow.decide(request.user, review, **DecisionInput.validated(request.data))
        return Response(self.get_serializer(self.get_queryset().get(pk=review.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="Comment on a review", request=CommentInput,
                   responses={201: CommentSerializer},
                   description="Project members comment; anchor to a text span, an image "
                               "region, or a time in seconds of audio or video (time_start, "
                               "optionally time_end). At most "
                               f"{MAX_COMMENT_CHARS} characters.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """Add a comment, optionally anchored to a text span or an image region."""
        review = self.get_object()  # a review you cannot see is a 404 whatever the body
        comment = workflow.add_comment(request.user, review,
                                       **CommentInput.validated(request.data))
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


def _asset(request: Request, asset_id: str) -> Asset:
    return Asset.objects.select_related("project").get_visible(request.user, asset_id,
                                                                noun="asset")


class AssetChecksView(APIView):
    """Check results of an asset's current version."""

    @extend_schema(summary="Check results of an asset's version",
                   responses=CheckResultSerializer(many=True))
    def get(self, request: Request, asset_id: str) -> Response:
        """Newest version's results."""
        asset = _asset(request, asset_id)
        rows = asset.check_results.filter(content_sha256=asset.sha256)
        return Response(CheckResultSerializer(rows, many=True).data)


class AssetSubmitView(APIView):
    """A creator submits an asset version for review."""

    @extend_schema(summary="Submit an asset version for review", request=SubmitInput,
                   responses={201: ReviewSubmittedSerializer},
                   description="409 when the checks have not finished, the version is "
                               "already in review or approved, or its content was rejected.")
    def post(self, request: Request, asset_id: str) -> Response:
        """201 with the review."""
        asset = _asset(request, asset_id)  # an asset you cannot see is a 404 first
        SubmitInput.validated(request.data)
        review = workflow.submit_for_review(request.user, asset)
        return Response({"review": review.pk, "status": review.status},
                        status=status.HTTP_201_CREATED)


class AssetReviseView(APIView):
    """Save an edited text as a new version (its review starts again)."""

    @extend_schema(summary="Save an edited text as a new version", request=ReviseInput,
                   responses={201: RevisedSerializer},
                   description="The new version is checked and reviewed again; text that "
                               "was rejected before is refused (409).")
    def post(self, request: Request, asset_id: str) -> Response:
        """201 with the new asset id and hash."""
        asset = _asset(request, asset_id)  # an asset you cannot see is a 404 first
        new = workflow.revise_text(request.user, asset, **ReviseInput.validated(request.data))
        return Response({"id": str(new.pk), "sha256": new.sha256, "parent": asset_id},
                        status=status.HTTP_201_CREATED)


def _project(request: Request, slug: str) -> Project:
    return require_capability(request.user, slug, Capability.VIEW, doing="see this project")


# --- brand kit, approved facts and review policy ---------------------------------------
# PUT replaces (required fields, or the documented defaults); PATCH changes only the
# fields sent. Each write is checked here for shape, then by the service for the rules,
# in one transaction: a 4xx changes nothing.


def _all_optional(fields: dict[str, serializers.Field]) -> dict[str, serializers.Field]:
    """PATCH: every top-level field may be left out, and none gets a default (nested
    items keep their own required fields)."""
    for field in fields.values():
        field.required = False
        field.default = empty
    return fields


class DateInput(serializers.DateField):
    """A date as ``YYYY-MM-DD`` text (a number or an object is not a date)."""

    def to_internal_value(self, value: Any) -> Any:
        """Refuse non-text, then parse it."""
        if not isinstance(value, str):
            raise serializers.ValidationError(
                f"Send a date as text like 2026-01-31, not {type(value).__name__}.")
        if text_problem(value):
            raise serializers.ValidationError(text_problem(value))
        return super().to_internal_value(value)


class NumberInput(StrictFloatField):
    """A finite JSON number, kept as sent (48 stays 48, not 48.0)."""

    def to_internal_value(self, data: Any) -> Any:
        """Check type and range; return the number unchanged."""
        super().to_internal_value(data)
        return data


class BannedTermInput(InputSerializer):
    """A word the brand never uses, and what to say instead."""

    term = StrictCharField(max_length=100, help_text="Matched as a whole word, any case.")
    alternatives = StrictListField(child=StrictCharField(max_length=200), max_length=20,
                                   required=False, default=list,
                                   help_text="Suggested replacements.")


class DisclaimerInput(InputSerializer):
    """Text that must appear when a trigger matches."""

    text = StrictCharField(max_length=1000, help_text="The required disclaimer.")
    triggers = StrictListField(
        child=StrictCharField(max_length=500), min_length=1, max_length=20,
        help_text="price, percentage, health, financial, keyword:<word> or "
                  "regex:<pattern> (RE2 syntax: no backreferences or lookarounds).")


class FactInput(InputSerializer):
    """A statement the project may make, with its source and validity window."""

    statement = StrictCharField(max_length=2000)
    source_url = StrictCharField(max_length=500, required=False, allow_blank=True,
                                 default="", validators=[URLValidator(["http", "https"])])
    valid_from = DateInput(required=False, allow_null=True, default=None)
    valid_until = DateInput(required=False, allow_null=True, default=None)


class BrandKitInput(InputSerializer):
    """``PUT /projects/{slug}/brand-kit/``: the whole kit (``facts``, when sent, replaces
    the fact library; left out, the facts stay as they are)."""

    voice = StrictCharField(max_length=5000, allow_blank=True,
                            help_text="How the brand sounds, for writers and prompts.")
    banned_terms = StrictListField(child=BannedTermInput(), max_length=500)
    disclaimers = StrictListField(child=DisclaimerInput(), max_length=100)
    min_width = StrictIntegerField(min_value=1, max_value=8192, required=False, default=256,
                                   help_text="Smallest image width in pixels (default 256).")
    min_height = StrictIntegerField(min_value=1, max_value=8192, required=False, default=256,
                                    help_text="Smallest image height in pixels (default 256).")
    facts = StrictListField(child=FactInput(), max_length=1000, required=False,
                            help_text="The approved-fact library (replaced whole when sent).")


class BrandKitPatchInput(BrandKitInput):
    """``PATCH /projects/{slug}/brand-kit/``: only the fields sent change."""

    def get_fields(self) -> dict[str, serializers.Field]:
        """Every field optional, none defaulted."""
        return _all_optional(super().get_fields())


class StageInput(InputSerializer):
    """One review stage, decided in order."""

    name = StrictCharField(max_length=60, help_text="Unique within the policy.")
    approvals_required = StrictIntegerField(min_value=1, max_value=10, required=False,
                                            default=1)
    roles = StrictListField(child=StrictCharField(max_length=20), min_length=1, max_length=10,
                            required=False, default=lambda: ["reviewer", "owner"],
                            help_text="reviewer and/or owner (creators never decide).")
    due_hours = NumberInput(min_value=0, max_value=24 * 60, required=False, default=48,
                            help_text="Hours before reminders, then escalation (0 to 1440).")


class ReviewPolicyInput(InputSerializer):
    """``PUT /projects/{slug}/review-policy/``: the whole policy."""

    stages = StrictListField(
        child=StageInput(), max_length=MAX_STAGES,
        error_messages={"max_length": f"A policy has at most {MAX_STAGES} stages; send "
                                      "fewer (merge some stages)."})
    blocking_severities = StrictListField(
        child=StrictCharField(max_length=20), max_length=10, required=False,
        default=lambda: list(DEFAULT_BLOCKING),
        help_text="Failed checks of these severities block approval (default high, "
                  "critical).")
    auto_submit = StrictBooleanField(required=False, default=True,
                                     help_text="Submit assets for review as soon as their "
                                               "checks finish (default true).")


class ReviewPolicyPatchInput(ReviewPolicyInput):
    """``PATCH /projects/{slug}/review-policy/``: only the fields sent change."""

    def get_fields(self) -> dict[str, serializers.Field]:
        """Every field optional, none defaulted."""
        return _all_optional(super().get_fields())


class BannedTermSerializer(serializers.Serializer):
    term = serializers.CharField()
    alternatives = serializers.ListField(child=serializers.CharField())


class DisclaimerSerializer(serializers.Serializer):
    text = serializers.CharField()
    triggers = serializers.ListField(child=serializers.CharField())


class FactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    statement = serializers.CharField()
    source_url = serializers.CharField()
    valid_from = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)


class BrandKitSerializer(serializers.Serializer):
    voice = serializers.CharField()
    banned_terms = BannedTermSerializer(many=True)
    disclaimers = DisclaimerSerializer(many=True)
    min_width = serializers.IntegerField()
    min_height = serializers.IntegerField()
    facts = FactSerializer(many=True)


class StageSerializer(serializers.Serializer):
    name = serializers.CharField()
    approvals_required = serializers.IntegerField()
    roles = serializers.ListField(child=serializers.CharField())
    due_hours = serializers.FloatField()


class ReviewPolicySerializer(serializers.Serializer):
    stages = StageSerializer(many=True)
    blocking_severities = serializers.ListField(child=serializers.CharField())
    auto_submit = serializers.BooleanField()


_KIT_WRITE = ("Owners only (403 otherwise). Checked in full, then written in one "
              "transaction with its audit events: a refusal changes nothing.")


class BrandKitView(APIView):
    """A project's brand kit and approved facts (members read; owners write)."""

    @extend_schema(summary="A project's brand kit and approved facts",
                   responses=BrandKitSerializer)
    def get(self, request: Request, slug: str) -> Response:
        """The kit with its facts."""
        project = _project(request, slug)
        kit = brand.kit_for(project)
        facts = ApprovedFact.objects.filter(project=project)
        return Response({
            "voice": kit.voice, "banned_terms": kit.banned_terms,
            "disclaimers": kit.disclaimers, "min_width": kit.min_width,
            "min_height": kit.min_height,
            "facts": [{"id": f.pk, "statement": f.statement, "source_url": f.source_url,
                       "valid_from": f.valid_from, "valid_until": f.valid_until}
                      for f in facts]})

    @extend_schema(summary="Replace the brand kit", request=BrandKitInput,
                   responses=BrandKitSerializer,
                   description="Replaces the kit: voice, banned_terms and disclaimers are "
                               "required; min_width and min_height default to 256. facts, "
                               "when sent, replaces the fact library; left out, the facts "
                               f"are kept. {_KIT_WRITE}")
    def put(self, request: Request, slug: str) -> Response:
        """Replace the kit (and the facts, when ``facts`` is sent)."""
        return self._write(request, slug, BrandKitInput, partial=False)

    @extend_schema(summary="Change some of the brand kit", request=BrandKitPatchInput,
                   responses=BrandKitSerializer,
                   description=f"Only the fields sent change (facts: the whole library). "
                               f"{_KIT_WRITE}")
    def patch(self, request: Request, slug: str) -> Response:
        """Change the fields sent."""
        return self._write(request, slug, BrandKitPatchInput, partial=True)

    def _write(self, request: Request, slug: str, schema: type[InputSerializer], *,
               partial: bool) -> Response:
        project = _project(request, slug)
        brand.edit_brand_kit(request.user, project, schema.validated(request.data),
                             partial=partial)
        return self.get(request, slug)


class ReviewPolicyView(APIView):
    """A project's review policy (members read; owners write)."""

    @extend_schema(summary="A project's review policy", responses=ReviewPolicySerializer)
    def get(self, request: Request, slug: str) -> Response:
        """Stages, blocking severities and auto-submit."""
        policy = brand.policy_for(_project(request, slug))
        return Response({"stages": policy.stages,
                         "blocking_severities": policy.blocking_severities,
                         "auto_submit": policy.auto_submit})

    @extend_schema(summary="Replace the review policy", request=ReviewPolicyInput,
                   responses=ReviewPolicySerializer,
                   description="stages is required (1 to 20); blocking_severities defaults "
                               "to high and critical, auto_submit to true. Reviews under way "
                               f"keep the rules they began with. {_KIT_WRITE}")
    def put(self, request: Request, slug: str) -> Response:
        """Replace the policy; reviews under way keep their rules."""
        return self._write(request, slug, ReviewPolicyInput, partial=False)

    @extend_schema(summary="Change some of the review policy",
                   request=ReviewPolicyPatchInput, responses=ReviewPolicySerializer,
                   description=f"Only the fields sent change. {_KIT_WRITE}")
    def patch(self, request: Request, slug: str) -> Response:
        """Change the fields sent."""
        return self._write(request, slug, ReviewPolicyPatchInput, partial=True)

    def _write(self, request: Request, slug: str, schema: type[InputSerializer], *,
               partial: bool) -> Response:
        project = _project(request, slug)
        brand.update_policy(request.user, project, schema.validated(request.data),
                            partial=partial)
        return self.get(request, slug)


# --- the fact library as CSV ---------------------------------------------------------


class FactsImportInput(InputSerializer):
    """``POST /projects/{slug}/facts/import/`` (multipart): a CSV file and what to do."""

    file = serializers.FileField(help_text="CSV, UTF-8, with a header row: statement, "
                                           "source_url, valid_from, valid_until (only "
                                           "statement is required; dates as 2026-01-31).")
    mode = StrictCharField(max_length=10, required=False, default="add",
                           help_text="add (keep the library, add the rows; the default) or "
                                     "replace (the file becomes the whole library).")


class FactsImportedSerializer(serializers.Serializer):
    imported = serializers.IntegerField(help_text="Rows imported from the file.")
    facts = FactSerializer(many=True, help_text="The whole library afterwards.")


class FactsExportView(APIView):
    """The fact library as a CSV download (members read)."""

    def perform_content_negotiation(self, request: Request,
                                    force: bool = False) -> tuple[BaseRenderer, str]:
        """Errors as JSON whatever the Accept header; the file itself is CSV."""
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(summary="Export the approved facts as CSV",
                   responses={(200, "text/csv"): OpenApiTypes.STR},
                   description="Columns statement, source_url, valid_from, valid_until; "
                               "the file imports back unchanged.")
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        """The CSV download."""
        project = _project(request, slug)
        response = StreamingHttpResponse(fact_csv.export_rows(project),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{project.slug}-facts.csv"'
        return response


class FactsImportView(APIView):
    """Import approved facts from CSV, all or nothing (owners)."""

    parser_classes = (MultiPartParser,)

    @extend_schema(summary="Import approved facts from CSV",
                   request={"multipart/form-data": FactsImportInput},
                   responses={201: FactsImportedSerializer},
                   description="All or nothing: when any row is bad, nothing is stored and "
                               "the 400 lists each bad row (\"row 3\": what to fix; the "
                               f"header is row 1). {_KIT_WRITE}")
    def post(self, request: Request, slug: str) -> Response:
        """201 with the number imported and the library."""
        project = require_capability(request.user, slug, Capability.MANAGE,
                                     doing="import approved facts")
        data = FactsImportInput.validated(request.data)
        imported = fact_csv.import_facts(request.user, project, data["file"].read(),
                                         mode=data["mode"])
        facts = ApprovedFact.objects.filter(project=project).order_by("pk")
        return Response({"imported": imported,
                         "facts": [{"id": f.pk, "statement": f.statement,
                                    "source_url": f.source_url, "valid_from": f.valid_from,
                                    "valid_until": f.valid_until} for f in facts]},
                        status=status.HTTP_201_CREATED)
