"""Owners' screens for a project's people: members, invitations, the project's details,
and the admins' page for teams and projects; plus the invitation link's page.

Each form calls the same service as its REST twin (:mod:`assay.studio.services.members`)
and shows the service's refusal in its words; a refused form answers 4xx.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from assay.accounts.choices import ProjectRole
from assay.accounts.models import Team
from assay.core.exceptions import AssayError, NotFound, NotPermitted
from assay.studio.models import Project
from assay.studio.services import members as services


def guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A refusal that escapes the view: not found → 404, not permitted → the 403 page."""
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except NotPermitted as exc:
            return render(request, "portal/refused.html", {"message": exc.message},
                          status=403)
    return wrapper


def _refused(request: HttpRequest, exc: AssayError) -> int:
    messages.error(request, exc.message)
    return exc.status_code


@login_required
@guarded
@require_http_methods(["GET", "POST"])
def project_members(request: HttpRequest, slug: str) -> HttpResponse:
    """The member list (read-only for non-owners); owners add, invite, change, remove."""
    status = 200
    if request.method == "POST":
        try:
            project = services.manageable(request.user, slug)
            action = request.POST.get("action", "")
            if action == "add":
                m = services.add_member(request.user, project, user=request.POST.get("user", ""),
                                        role=request.POST.get("role", ""))
                messages.success(request, f"{m.user.get_username()} is now "
                                          f"{m.get_role_display().lower()}.")
                return redirect("portal:project_members", slug=project.slug)
            if action == "invite":
                services.invite(request.user, project, email=request.POST.get("email", ""),
                                role=request.POST.get("role", ""),
                                link=lambda key: request.build_absolute_uri(
                                    reverse("portal:invitation", args=[key])))
                messages.success(request, f"Invitation sent to {request.POST['email']}.")
                return redirect("portal:project_members", slug=project.slug)
            messages.error(request, "Choose whether to add a member or send an invitation.")
            status = 400
        except AssayError as exc:
            status = _refused(request, exc)
            if status == 404:
                raise
    project, rows = services.members_of(request.user, slug)
    manage = services.can_manage(request.user, project)
    return render(request, "portal/members.html", {
        "project": project, "members": rows, "can_manage": manage,
        "invitations": services.pending_invitations(project) if manage else [],
        "roles": ProjectRole.choices, "invite_days": services.INVITE_DAYS,
    }, status=status)


@login_required
@guarded
@require_POST
def project_member(request: HttpRequest, slug: str, member: str) -> HttpResponse:
    """Change one member's role or remove them (owners and admins)."""
    try:
        project = services.manageable(request.user, slug)
        if request.POST.get("action") == "remove":
            services.remove_member(request.user, project, member)
            messages.success(request, f"{member} was removed from {project.name}.")
        else:
            m = services.change_role(request.user, project, member,
                                     role=request.POST.get("role", ""))
            messages.success(request, f"{m.user.get_username()} is now "
                                      f"{m.get_role_display().lower()}.")
    except (NotFound, NotPermitted):
        raise
    except AssayError as exc:
        status = _refused(request, exc)
        project, rows = services.members_of(request.user, slug)
        return render(request, "portal/members.html", {
            "project": project, "members": rows, "can_manage": True,
            "invitations": services.pending_invitations(project),
            "roles": ProjectRole.choices, "invite_days": services.INVITE_DAYS,
        }, status=status)
    return redirect("portal:project_members", slug=slug)


@login_required
@guarded
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's name and description (owners and admins)."""
    project = services.manageable(request.user, slug)
    status = 200
    if request.method == "POST":
        try:
            services.update_project(request.user, project, name=request.POST.get("name", ""),
                                    description=request.POST.get("description", ""))
        except AssayError as exc:
            status = _refused(request, exc)
        else:
            messages.success(request, "The project was saved.")
            return redirect("portal:project_manage", slug=project.slug)
    return render(request, "portal/project_edit.html", {
        "project": project, "name": request.POST.get("name", project.name),
        "description": request.POST.get("description", project.description),
        "name_chars": services.NAME_CHARS, "description_chars": services.DESCRIPTION_CHARS,
    }, status=status)


@login_required
@guarded
@require_http_methods(["GET", "POST"])
def teams(request: HttpRequest) -> HttpResponse:
    """Teams and their projects; platform admins create both."""
    services.require_admin(request.user, "manage teams and projects")
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "team":
                team = services.create_team(request.user, name=request.POST.get("name", ""))
                messages.success(request, f"Team {team.name} created.")
            else:
                project = services.create_project(
                    request.user, team=request.POST.get("team", ""),
                    name=request.POST.get("name", ""),
                    description=request.POST.get("description", ""),
                    owner=request.POST.get("owner", ""))
                messages.success(request, f"Project {project.name} created.")
            return redirect("portal:teams")
        except AssayError as exc:
            status = _refused(request, exc)
    return render(request, "portal/teams.html", {
        "teams": Team.objects.prefetch_related("projects"),
        "projects": Project.objects.count(),
    }, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, key: str) -> HttpResponse:
    """The invitation link: accept while signed in, or create the invited account here."""
    try:
        invite = services.open_invitation(key)
    except AssayError as exc:
        return render(request, "portal/invitation.html", {"problem": exc.message},
                      status=exc.status_code)
    status = 200
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                services.accept_invitation(request.user, key)
            else:
                user = services.sign_up_and_accept(
                    key, username=request.POST.get("username", ""),
                    password=request.POST.get("password", ""))
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        except AssayError as exc:
            status = _refused(request, exc)
        else:
            messages.success(request, f"Welcome to {invite.project.name}.")
            return redirect("portal:project", slug=invite.project.slug)
    return render(request, "portal/invitation.html", {"invite": invite, "key": key},
                  status=status)
