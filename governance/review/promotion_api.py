"""REST for governed promotion: protected labels, golden sets and promotion reviews.

``/templates/{id}/promotions/`` (list, request), ``/templates/{id}/promotions/{pid}/``
(the review: diff texts, golden-set outputs and check results side by side), ``.../approve/``
and ``.../reject/``; ``/templates/{id}/golden-set/``; ``/projects/{slug}/protected-labels/``.
Every rule is in ``governance.review.promotion`` and ``assay.studio.services.protection``,
which the portal pages call too.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.accounts.choices import Capability
from assay.core.exceptions import Conflict, NotFound
from assay.core.inputs import (
    InputSerializer,
    StrictCharField,
    StrictDictField,
    StrictIntegerField,
    StrictListField,
    StrictSlugOrIdField,
)
from assay.core.numbers import parse_id
from assay.studio.models import PromptTemplate
from assay.studio.services.projects import require_capability
from assay.studio.services.protection import (
    golden_samples,
    protect_label,
    protections_for,
    save_golden_set,
    unprotect_label,
)
from governance.review.promotion import (
    ApprovePromotion,
    RejectPromotion,
    RequestPromotion,
    SampleRow,
    SideResult,
    get_promotion,
    promotion_rows,
    promotions_for,
)
from governance.review.promotion_models import Promotion


def template_for(user: Any, template_id: Any) -> PromptTemplate:
    """A template in a project the user can see, or NotFound (also for malformed ids)."""
    pk = parse_id(template_id)
    found = (PromptTemplate.objects.visible_to(user).select_related("project")
             .filter(pk=pk).first() if pk is not None else None)
    if found is None:
        raise NotFound(f"No prompt template {template_id} in your projects.",
                       errors={"template": ["not found"]})
    return found


# --- input ----------------------------------------------------------------------------

class PromotionInput(InputSerializer):
    """``POST /templates/{id}/promotions/``: which version to which protected label."""

    version = StrictIntegerField(min_value=1, help_text="The id of the version to promote.")
    label = StrictCharField(max_length=40, help_text="The protected label, e.g. production.")
    note = StrictCharField(max_length=500, required=False, allow_blank=True,
                           help_text="Why this version should be promoted.")


class ApproveInput(InputSerializer):
    """``POST .../approve/``: the version number you reviewed (pins what you saw)."""

    version = StrictIntegerField(min_value=1, help_text="The number of the version you "
                                 "reviewed; refused if the promotion is for another.")
    comment = StrictCharField(max_length=1000, required=False, allow_blank=True)


class RejectInput(InputSerializer):
    """``POST .../reject/``: why (required)."""

    comment = StrictCharField(max_length=1000, allow_blank=True,
                              help_text="Why the promotion is rejected.")


class GoldenSetInput(InputSerializer):
    """``PUT /templates/{id}/golden-set/``: the whole list of sample variable sets."""

    samples = StrictListField(child=StrictDictField(child=StrictCharField(
        allow_blank=True, trim_whitespace=False)), max_length=50,
        help_text="Each sample maps variable names to values.")


class ProtectInput(InputSerializer):
    """``POST /projects/{slug}/protected-labels/``: a name, on one template or all."""

    name = StrictCharField(max_length=40, help_text="The label name, e.g. production.")
    template = StrictSlugOrIdField(required=False, allow_null=True,
                                   help_text="A template id or slug; left out: every "
                                             "template of the project.")


# --- output ---------------------------------------------------------------------------

class CheckOutSerializer(serializers.Serializer):
    check_id = serializers.CharField()
    status = serializers.CharField()
    severity = serializers.CharField()
    summary = serializers.CharField()


class SideSerializer(serializers.Serializer):
    job_id = serializers.CharField()
    status = serializers.CharField(help_text="The golden-set job's status.")
    error = serializers.CharField()
    text = serializers.CharField(help_text="The output text (empty for images or failures).")
    asset_id = serializers.CharField(allow_null=True)
    finished = serializers.BooleanField(help_text="Done, and its checks ran.")
    checks = CheckOutSerializer(many=True)


class SampleSerializer(serializers.Serializer):
    sample = serializers.IntegerField()
    variables = serializers.DictField(child=serializers.CharField())
    candidate = SideSerializer(allow_null=True)
    current = SideSerializer(allow_null=True, help_text="Null when the label is new.")


class PromotionSerializer(serializers.Serializer):
    """A promotion request, as listed."""

    id = serializers.IntegerField()
    template = serializers.IntegerField(source="template_id")
    project = serializers.CharField(source="template.project.slug")
    label = serializers.CharField()
    version = serializers.IntegerField(source="version.number")
    version_id = serializers.IntegerField()
    current_version = serializers.IntegerField(source="current_version.number",
                                               allow_null=True, default=None)
    status = serializers.CharField()
    note = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True,
                                       default=None)
    decision_comment = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    applied_at = serializers.DateTimeField(allow_null=True)


class PromotionDetailSerializer(PromotionSerializer):
    """The review: both texts (for the diff) and the golden-set comparison."""

    text = serializers.CharField(source="version.text")
    current_text = serializers.CharField(source="current_version.text", allow_null=True,
                                         default=None)
    ready = serializers.BooleanField(help_text="Every golden-set run finished.")
    samples = SampleSerializer(many=True)


class GoldenSetSerializer(serializers.Serializer):
    samples = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class ProtectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    template = serializers.IntegerField(source="template_id", allow_null=True)
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()


def _side(side: SideResult | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {"job_id": side.job_id, "status": side.status, "error": side.error,
            "text": side.text, "asset_id": side.asset_id, "finished": side.finished,
            "checks": [{"check_id": c.check_id, "status": c.status, "severity": c.severity,
                        "summary": c.summary} for c in side.checks]}


def detail_data(promotion: Promotion) -> dict[str, Any]:
    """The promotion with its golden-set rows, as the detail serializer reads it."""
    rows: list[SampleRow] = promotion_rows(promotion)
    sides = [s for r in rows for s in (r.candidate, r.current) if s is not None]
    data = PromotionSerializer(promotion).data
    return {**data, "text": promotion.version.text,
            "current_text": promotion.current_version.text if promotion.current_version
            else None,
            "ready": all(s.finished for s in sides),
            "samples": [{"sample": r.sample, "variables": r.variables,
                         "candidate": _side(r.candidate), "current": _side(r.current)}
                        for r in rows]}


# --- views ----------------------------------------------------------------------------

class TemplatePromotionsView(APIView):
    """A template's promotions (members read; people who write prompts request)."""

    @extend_schema(summary="A template's promotion requests",
                   responses=PromotionSerializer(many=True))
    def get(self, request: Request, template_id: str) -> Response:
        """Newest first."""
        template = template_for(request.user, template_id)
        rows = promotions_for(request.user, template).select_related("template__project")
        return Response(PromotionSerializer(rows[:200], many=True).data)

    @extend_schema(summary="Request a promotion to a protected label", request=PromotionInput,
                   responses={201: PromotionDetailSerializer},
                   description="Starts the golden-set run: the proposed version and the "
                               "version the label holds now are generated for each saved "
                               "sample, and every check runs on the outputs.")
    def post(self, request: Request, template_id: str) -> Response:
        """201 with the new promotion."""
        template = template_for(request.user, template_id)
        require_capability(request.user, template.project, Capability.GENERATE,
                           doing="request prompt promotions")
        values = PromotionInput.validated(request.data)
        promotion = RequestPromotion(request.user, template, **values).execute()
        found = get_promotion(request.user, promotion.pk, template=template)
        return Response(detail_data(found), status=status.HTTP_201_CREATED)


class PromotionDetailView(APIView):
    """One promotion review."""

    @extend_schema(summary="A promotion review, with the golden-set comparison",
                   responses=PromotionDetailSerializer)
    def get(self, request: Request, template_id: str, promotion_id: str) -> Response:
        """The texts for the diff and the outputs and check results side by side."""
        template = template_for(request.user, template_id)
        return Response(detail_data(get_promotion(request.user, promotion_id,
                                                  template=template)))


class PromotionApproveView(APIView):
    """Approve: the protected label moves (someone other than the version's author)."""

    @extend_schema(summary="Approve a promotion (moves the protected label)",
                   request=ApproveInput, responses=PromotionDetailSerializer)
    def post(self, request: Request, template_id: str, promotion_id: str) -> Response:
        """200 with the approved promotion."""
        template = template_for(request.user, template_id)
        promotion = get_promotion(request.user, promotion_id, template=template)
        require_capability(request.user, template.project, Capability.REVIEW,
                           doing="approve prompt promotions")
        values = ApproveInput.validated(request.data)
        if values["version"] != promotion.version.number:
            raise Conflict(f"This promotion is for version {promotion.version.number}, "
                           f"not {values['version']}; reload it and review again.",
                           errors={"version": ["not the version of this promotion"]})
        ApprovePromotion(request.user, promotion, comment=values.get("comment", "")).execute()
        return Response(detail_data(get_promotion(request.user, promotion.pk)))


class PromotionRejectView(APIView):
    """Reject: the label stays where it is."""

    @extend_schema(summary="Reject a promotion", request=RejectInput,
                   responses=PromotionDetailSerializer)
    def post(self, request: Request, template_id: str, promotion_id: str) -> Response:
        """200 with the rejected promotion."""
        template = template_for(request.user, template_id)
        promotion = get_promotion(request.user, promotion_id, template=template)
        require_capability(request.user, template.project, Capability.REVIEW,
                           doing="reject prompt promotions")
        values = RejectInput.validated(request.data)
        RejectPromotion(request.user, promotion, comment=values["comment"]).execute()
        return Response(detail_data(get_promotion(request.user, promotion.pk)))


class GoldenSetView(APIView):
    """The sample variables a template's promotions are tried on."""

    @extend_schema(summary="A template's golden set", responses=GoldenSetSerializer)
    def get(self, request: Request, template_id: str) -> Response:
        """The saved samples."""
        return Response({"samples": golden_samples(template_for(request.user, template_id))})

    @extend_schema(summary="Replace a template's golden set", request=GoldenSetInput,
                   responses=GoldenSetSerializer)
    def put(self, request: Request, template_id: str) -> Response:
        """Replace the list (at most 10 samples)."""
        template = template_for(request.user, template_id)
        require_capability(request.user, template.project, Capability.GENERATE,
                           doing="edit a template's golden set")
        values = GoldenSetInput.validated(request.data)
        row = save_golden_set(template, request.user, samples=values["samples"])
        return Response({"samples": row.samples})


class ProtectedLabelsView(APIView):
    """A project's protected labels (members read; owners protect)."""

    @extend_schema(summary="A project's protected labels",
                   responses=ProtectionSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """Project-wide and per-template protections."""
        project = require_capability(request.user, slug, Capability.VIEW,
                                     doing="see this project")
        rows = protections_for(project).select_related("created_by")
        return Response(ProtectionSerializer(rows, many=True).data)

    @extend_schema(summary="Protect a label", request=ProtectInput,
                   responses={201: ProtectionSerializer},
                   description="From then on the label moves only through an approved "
                               "promotion. Owners only.")
    def post(self, request: Request, slug: str) -> Response:
        """201 with the protection."""
        require_capability(request.user, slug, Capability.MANAGE, doing="protect prompt labels")
        values = ProtectInput.validated(request.data)
        row = protect_label(slug, request.user, name=values["name"],
                            template=values.get("template"))
        return Response(ProtectionSerializer(row).data, status=status.HTTP_201_CREATED)


class ProtectedLabelDetailView(APIView):
    """Lift one protection (owners only)."""

    @extend_schema(summary="Lift a label protection", request=None, responses={204: None})
    def delete(self, request: Request, slug: str, protection_id: str) -> Response:
        """204 when lifted."""
        unprotect_label(slug, request.user, protection_id=protection_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
