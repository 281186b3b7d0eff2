"""REST for review: the queue, decisions, comments, check results, kit and policy."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.accounts.choices import Capability
from assay.core.exceptions import InvalidInput
from assay.core.rest import ScopedViewSet
from assay.studio.models import Asset, Project
from assay.studio.services.projects import require_capability
from governance.review import brand, queries, workflow
from governance.review.models import (
    ApprovedFact,
    CheckResult,
    Comment,
    Decision,
    Review,
)


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

    class Meta:
        model = Comment
        fields = ("id", "author", "body", "span", "region", "created_at")

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


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Reviews in the user's projects; ``?awaiting_me=true`` is the reviewer's queue."""

    model = Review
    related = ("project", "asset", "generated_by", "submitted_by")
    serializer_class = ReviewSerializer

    def get_queryset(self) -> QuerySet:
        """Scoped, filterable by project, status and awaiting_me."""
        qs = super().get_queryset().prefetch_related(
            "decisions__reviewer", "comments__author", "asset__check_results")
        params = self.request.query_params
        if params.get("project"):
            qs = qs.filter(project__slug=params["project"])
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        if params.get("awaiting_me") in ("1", "true", "yes"):
            qs = self._awaiting(qs)
        return qs

    def _awaiting(self, qs: QuerySet) -> QuerySet:
        return queries.awaiting(self.request.user, qs)

    @action(detail=True, methods=["post"])
    def decisions(self, request: Request, pk: str | None = None) -> Response:
        """Approve, reject or request changes, pinned to the content hash seen."""
        body = request.data if isinstance(request.data, dict) else {}
        if not body.get("content_sha256"):
            raise InvalidInput("Send the content_sha256 of the version you reviewed.",
                               errors={"content_sha256": ["required"]})
        overrides = body.get("overrides") or {}
        if not isinstance(overrides, dict):
            raise InvalidInput("overrides must be an object of check id → reason.",
                               errors={"overrides": ["must be an object"]})
        review = workflow.decide(request.user, self.get_object(),
                                 decision=str(body.get("decision", "")),
                                 content_sha256=str(body["content_sha256"]),
                                 comment=str(body.get("comment", "")), overrides=overrides)
        return Response(self.get_serializer(self.get_queryset().get(pk=review.pk)).data,
                        status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """Add a comment, optionally anchored to a text span or an image region."""
        body = request.data if isinstance(request.data, dict) else {}
        comment = workflow.add_comment(request.user, self.get_object(),
                                       body=str(body.get("body", "")),
                                       span=body.get("span"), region=body.get("region"))
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


def _asset(request: Request, asset_id: str) -> Asset:
    return Asset.objects.select_related("project").get_visible(request.user, asset_id,
                                                                noun="asset")


class AssetChecksView(APIView):
    """Check results of an asset's current version."""

    def get(self, request: Request, asset_id: str) -> Response:
        """Newest version's results."""
        asset = _asset(request, asset_id)
        rows = asset.check_results.filter(content_sha256=asset.sha256)
        return Response(CheckResultSerializer(rows, many=True).data)


class AssetSubmitView(APIView):
    """A creator submits an asset version for review."""

    def post(self, request: Request, asset_id: str) -> Response:
        """201 with the review."""
        review = workflow.submit_for_review(request.user, _asset(request, asset_id))
        return Response({"review": review.pk, "status": review.status},
                        status=status.HTTP_201_CREATED)


class AssetReviseView(APIView):
    """Save an edited text as a new version (its review starts again)."""

    def post(self, request: Request, asset_id: str) -> Response:
        """201 with the new asset id and hash."""
        body = request.data if isinstance(request.data, dict) else {}
        new = workflow.revise_text(request.user, _asset(request, asset_id),
                                   text=str(body.get("text", "")))
        return Response({"id": str(new.pk), "sha256": new.sha256, "parent": asset_id},
                        status=status.HTTP_201_CREATED)


def _project(request: Request, slug: str) -> Project:
    return require_capability(request.user, slug, Capability.VIEW, doing="see this project")


class BrandKitView(APIView):
    """A project's brand kit and approved facts (members read; owners write)."""

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

    def put(self, request: Request, slug: str) -> Response:
        """Replace the kit (and the facts, when ``facts`` is sent)."""
        project = _project(request, slug)
        body = request.data if isinstance(request.data, dict) else {}
        brand.update_brand_kit(request.user, project, body)
        if "facts" in body:
            brand.replace_facts(request.user, project, body["facts"])
        return self.get(request, slug)


class ReviewPolicyView(APIView):
    """A project's review policy (members read; owners write)."""

    def get(self, request: Request, slug: str) -> Response:
        """Stages, blocking severities and auto-submit."""
        policy = brand.policy_for(_project(request, slug))
        return Response({"stages": policy.stages,
                         "blocking_severities": policy.blocking_severities,
                         "auto_submit": policy.auto_submit})

    def put(self, request: Request, slug: str) -> Response:
        """Replace the policy; reviews under way keep their rules."""
        body = request.data if isinstance(request.data, dict) else {}
        brand.update_policy(request.user, _project(request, slug), body)
        return self.get(request, slug)
