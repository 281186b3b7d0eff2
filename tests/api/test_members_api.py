"""REST and portal twins for members, invitations, teams and projects."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from assay.studio.models import Membership

pytestmark = pytest.mark.django_db


def _api(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_owner_adds_changes_and_cannot_remove_the_last_owner(users, project):
    owner = _api(users["owner"])
    url = f"/api/v1/projects/{project.slug}/members/"
    assert owner.post(url, {"user": "otto", "role": "creator"}, format="json").status_code == 201
    assert owner.patch(url + "otto/", {"role": "reviewer"}, format="json").json()["role"] == \
        "reviewer"
    refused = owner.delete(url + "olga/")
    assert refused.status_code == 409 and "last owner" in refused.json()["detail"]
    assert owner.patch(url + "olga/", {"role": "creator"}, format="json").status_code == 409
    assert owner.delete(url + "otto/").status_code == 204
    creator = _api(users["creator"])
    assert creator.get(url).status_code == 200  # read-only for members
    assert creator.post(url, {"user": "otto", "role": "owner"}, format="json").status_code == 403


def test_invite_over_rest_and_accept(users, project, django_capture_on_commit_callbacks):
    owner = _api(users["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        made = owner.post(f"/api/v1/projects/{project.slug}/invitations/",
                          {"email": "otto@example.com", "role": "reviewer"}, format="json")
    assert made.status_code == 201, made.content
    key = re.search(r"/invitations/([\w-]+)/", mail.outbox[-1].body).group(1)
    users["outsider"].email = "otto@example.com"
    users["outsider"].save()
    outsider = _api(users["outsider"])
    assert outsider.post("/api/v1/invitations/accept/", {"key": key},
                         format="json").status_code == 200
    assert outsider.post("/api/v1/invitations/accept/", {"key": key},
                         format="json").status_code == 409
    assert Membership.objects.get(project=project, user=users["outsider"]).role == "reviewer"


def test_admins_create_teams_and_projects_owners_patch(users, project):
    admin = _api(users["admin"])
    team = admin.post("/api/v1/teams/", {"name": "Brand"}, format="json")
    assert team.status_code == 201
    made = admin.post("/api/v1/projects/", {"team": "brand", "name": "Autumn", "owner": "olga"},
                      format="json")
    assert made.status_code == 201, made.content
    owner = _api(users["owner"])
    changed = owner.patch("/api/v1/projects/autumn/", {"description": "Autumn launch"},
                          format="json")
    assert changed.json()["description"] == "Autumn launch"
    assert _api(users["creator"]).patch(f"/api/v1/projects/{project.slug}/", {"name": "x"},
                                        format="json").status_code == 403


def test_portal_members_page_for_owner_and_member(users, project):
    owner, creator = Client(), Client()
    owner.force_login(users["owner"])
    creator.force_login(users["creator"])
    url = f"/projects/{project.slug}/members/"
    assert "Add member" in owner.get(url).content.decode()
    page = creator.get(url).content.decode()
    assert "Add member" not in page and "olga" in page
    owner.post(url, {"action": "add", "user": "otto", "role": "creator"})
    assert Membership.objects.filter(project=project, user=users["outsider"]).exists()
    refused = owner.post(url + "olga/", {"action": "remove"})
    assert refused.status_code == 409 and "last owner" in refused.content.decode()


@pytest.mark.parametrize("body, field", [
    ({"name": "Northern Lights Marketing " * 4, "slug": ""}, None),  # long name: slug is cut
    ({"name": "!!!", "slug": ""}, "name"),
    ({"name": "Ok", "slug": "not a slug"}, "slug"),
    ({"name": "Ok", "slug": "x" * 61}, "slug"),
])
def test_team_and_project_slugs_are_400s_in_words_never_500s(users, team, body, field):
    admin = _api(users["admin"])
    for path in ("/api/v1/teams/", "/api/v1/projects/"):
        data = dict(body, **({"team": team.slug} if path.endswith("projects/") else {}))
        response = admin.post(path, data, format="json")
        if field is None:
            assert response.status_code == 201, response.content
            assert 0 < len(response.json()["slug"]) <= 60
        else:
            assert response.status_code == 400, response.content
            assert field in response.json()["errors"]
