"""REST for creating teams and projects (admins) and editing a project (its owners).

:class:`ProjectViewSet` extends the read-only one in :mod:`assay.api.views` with
``POST /projects/`` and ``PATCH /projects/{slug}/``; ``/teams/`` lists and creates teams.
The rules live in :mod:`assay.studio.services.members`, which the portal calls too.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from assay.accounts.models import Team
from assay.api import serializers as s
from assay.api import views
from assay.core.exceptions import NotPermitted
from assay.core.inputs import InputSerializer, StrictCharField
from assay.core.rest import ScopedViewSet
from assay.studio.services import members as services


class ProjectCreateInput(InputSerializer):
    """``POST /projects/``: the team, a name and optionally a slug, description, owner."""

    team = StrictCharField(max_length=60, help_text="The team's slug.")
    name = StrictCharField(max_length=services.NAME_CHARS)
    slug = StrictCharField(max_length=60, required=False, allow_blank=True,
                           help_text="Made from the name when left out.")
    description = StrictCharField(max_length=services.DESCRIPTION_CHARS, required=False,
                                  allow_blank=True)
    owner = StrictCharField(max_length=254, required=False, allow_blank=True,
                            help_text="Username or e-mail of the project's first owner.")


class ProjectPatchInput(InputSerializer):
    """``PATCH /projects/{slug}/``: the fields to change."""

    name = StrictCharField(max_length=services.NAME_CHARS, required=False)
    description = StrictCharField(max_length=services.DESCRIPTION_CHARS, required=False,
                                  allow_blank=True)


class TeamInput(InputSerializer):
    """``POST /teams/``: a name and optionally a slug."""

    name = StrictCharField(max_length=services.NAME_CHARS)
    slug = StrictCharField(max_length=60, required=False, allow_blank=True)


class TeamSerializer(serializers.ModelSerializer):
    """A team."""

    class Meta:
        model = Team
        fields = ("id", "slug", "name", "created_at")
        read_only_fields = fields


class ProjectViewSet(views.ProjectViewSet):
    """Projects: members read; admins create; owners edit."""

    @extend_schema(summary="Create a project", request=ProjectCreateInput,
                   responses={201: s.ProjectSerializer},
                   description="Platform admins only. With ``owner``, that user becomes "
                               "its first owner.")
    def create(self, request: Request) -> Response:
        """201 with the project."""
        services.require_admin(request.user, "create projects")
        project = services.create_project(request.user,
                                          **ProjectCreateInput.validated(request.data))
        return Response(s.ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Edit a project", request=ProjectPatchInput,
                   responses=s.ProjectSerializer,
                   description="Owners and admins change the name and description.")
    def partial_update(self, request: Request, slug: str | None = None) -> Response:
        """The project as changed."""
        project = services.manageable(request.user, slug)
        data = ProjectPatchInput.validated(request.data)
        project = services.update_project(request.user, project, **data)
        return Response(s.ProjectSerializer(project).data)


class TeamViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Teams: admins and auditors list; admins create."""

    serializer_class = TeamSerializer
    filter_backends: list[type] = []

    def get_queryset(self):  # noqa: ANN201 - a QuerySet of teams
        """Every team, for admins and auditors (teams are not project-scoped)."""
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):
            return Team.objects.none()
        if not (user.is_platform_admin or user.is_auditor):
            raise NotPermitted("Only platform admins and auditors list teams.")
        return Team.objects.all()

    @extend_schema(summary="Teams", responses=TeamSerializer(many=True))
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        """All teams."""
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Create a team", request=TeamInput,
                   responses={201: TeamSerializer}, description="Platform admins only.")
    def create(self, request: Request) -> Response:
        """201 with the team."""
        services.require_admin(request.user, "create teams")
        team = services.create_team(request.user, **TeamInput.validated(request.data))
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)
