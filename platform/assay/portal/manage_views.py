"""The project's "Manage" hub: where owners reach members, prompts, brand rules and policy.

Each owner screen adds its own link to ``templates/portal/manage.html``; the hub itself
only says who may change what (members see the hub, owners get the editing links).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from assay.accounts.choices import Capability
from assay.studio.models import Project
from assay.studio.services.projects import role_in


@login_required
@require_GET
def project_manage(request: HttpRequest, slug: str) -> HttpResponse:
    """Links to the project's management screens, for its members (non-members: 404)."""
    project = get_object_or_404(Project.objects.visible_to(request.user), slug=slug)
    can_manage = Project.objects.visible_to(request.user, Capability.MANAGE).filter(
        pk=project.pk).exists()
    return render(request, "portal/manage.html", {
        "project": project, "role": role_in(request.user, project), "can_manage": can_manage,
    })
