"""REST for a project's members and invitations (the twin of the portal's members page).

``/projects/{slug}/members/`` lists (members, auditors, admins) and adds (owners, admins);
``/projects/{slug}/members/{user}/`` (a user id or username) reads, changes the role
(PATCH) or removes (DELETE); ``/projects/{slug}/invitations/`` lists and sends one-time
e-mail links; ``/invitations/accept/`` accepts one while signed in. The rules (the last
owner stays, the link works once for its e-mail) live in
:mod:`assay.studio.services.members`.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.accounts.choices import ProjectRole
from assay.core.inputs import InputSerializer, StrictCharField
from assay.studio.models import Invitation, Membership
from assay.studio.services import members as services


class RoleField(serializers.ChoiceField):
    """A project role, as text only."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=ProjectRole.choices, **kwargs)

    def to_internal_value(self, data: object) -> str:
        """Refuse anything but one of the role names."""
        if not isinstance(data, str):
            raise serializers.ValidationError(
                f"Send one of {', '.join(ProjectRole.values)} as text.")
        return super().to_internal_value(data)


class MemberAddInput(InputSerializer):
    """``POST /projects/{slug}/members/``: who (username or e-mail) and their role."""

    user = StrictCharField(max_length=254, help_text="An existing user's username or e-mail.")
    role = RoleField(help_text="creator, reviewer or owner.")


class MemberRoleInput(InputSerializer):
    """``PATCH /projects/{slug}/members/{user}/``: the new role."""

    role = RoleField(help_text="creator, reviewer or owner.")


class InviteInput(InputSerializer):
    """``POST /projects/{slug}/invitations/``: the address and the role it will give."""

    email = StrictCharField(max_length=254, help_text="Where the one-time link is sent.")
    role = RoleField(help_text="The role the invitee gets on accepting.")


class AcceptInput(InputSerializer):
    """``POST /invitations/accept/``: the secret from the link."""

    key = StrictCharField(max_length=100, help_text="The last part of the invitation link.")


class MemberSerializer(serializers.ModelSerializer):
    """A member: who and in which role (e-mail addresses stay private)."""

    user_id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ("user_id", "username", "name", "role", "joined_at")
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    """A pending invitation (never its secret)."""

    invited_by = serializers.CharField(source="invited_by.username", read_only=True,
                                       allow_null=True)

    class Meta:
        model = Invitation
        fields = ("id", "email", "role", "invited_by", "created_at", "expires_at")
        read_only_fields = fields


def _link(request: Request):  # noqa: ANN202 - a small closure
    return lambda key: request.build_absolute_uri(reverse("portal:invitation", args=[key]))


class MembersView(APIView):
    """A project's members."""

    @extend_schema(summary="A project's members", responses=MemberSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """Everyone who can see the project reads its member list."""
        _project, rows = services.members_of(request.user, slug)
        return Response(MemberSerializer(rows, many=True).data)

    @extend_schema(summary="Add an existing user to the project", request=MemberAddInput,
                   responses={201: MemberSerializer},
                   description="Owners and admins. 404 when no account has that username "
                               "or e-mail (invite them instead); 409 when already a member.")
    def post(self, request: Request, slug: str) -> Response:
        """201 with the new member."""
        project = services.manageable(request.user, slug)
        data = MemberAddInput.validated(request.data)
        membership = services.add_member(request.user, project, **data)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberView(APIView):
    """One member, by user id or username."""

    @extend_schema(summary="One member", responses=MemberSerializer)
    def get(self, request: Request, slug: str, member: str) -> Response:
        """The member's role."""
        project, _rows = services.members_of(request.user, slug)
        return Response(MemberSerializer(services.member(project, member)).data)

    @extend_schema(summary="Change a member's role", request=MemberRoleInput,
                   responses=MemberSerializer,
                   description="Owners and admins. The last owner cannot be demoted (409).")
    def patch(self, request: Request, slug: str, member: str) -> Response:
        """The member with their new role."""
        project = services.manageable(request.user, slug)
        data = MemberRoleInput.validated(request.data)
        return Response(MemberSerializer(
            services.change_role(request.user, project, member, **data)).data)

    @extend_schema(summary="Remove a member", request=None, responses={204: None},
                   description="Owners and admins. The last owner cannot be removed (409).")
    def delete(self, request: Request, slug: str, member: str) -> Response:
        """204 once removed."""
        services.remove_member(request.user, slug, member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationsView(APIView):
    """A project's pending invitations (owners and admins)."""

    @extend_schema(summary="Pending invitations", responses=InvitationSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """Invitations not yet accepted or expired."""
        project = services.manageable(request.user, slug)
        return Response(InvitationSerializer(services.pending_invitations(project),
                                             many=True).data)

    @extend_schema(summary="Invite someone by e-mail", request=InviteInput,
                   responses={201: InvitationSerializer},
                   description=f"Sends a one-time link that works for "
                               f"{services.INVITE_DAYS} days; only its hash is stored.")
    def post(self, request: Request, slug: str) -> Response:
        """201 with the invitation (the secret is only in the e-mail)."""
        project = services.manageable(request.user, slug)
        data = InviteInput.validated(request.data)
        invitation, _raw = services.invite(request.user, project, link=_link(request), **data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class AcceptInvitationView(APIView):
    """Accept an invitation as the signed-in user."""

    @extend_schema(summary="Accept an invitation", request=AcceptInput,
                   responses={200: MemberSerializer},
                   description="Only for the account with the invited e-mail; a link works "
                               "once (409 after) and expires.")
    def post(self, request: Request) -> Response:
        """The new membership."""
        data = AcceptInput.validated(request.data)
        return Response(MemberSerializer(
            services.accept_invitation(request.user, data["key"])).data)
