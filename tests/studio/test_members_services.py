"""Members, roles and invitations: the rules in assay.studio.services.members."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from assay.audit.models import AuditEvent
from assay.core.exceptions import Conflict, InvalidInput, NotFound, NotPermitted
from assay.studio.models import Invitation, Membership
from assay.studio.services import members as svc
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _link(key: str) -> str:
    return f"http://testserver/invitations/{key}/"


def test_owner_adds_by_username_or_email_and_changes_role(users, project):
    newcomer = make_user("nina")
    newcomer.email = "Nina@Example.com"
    newcomer.save()
    m = svc.add_member(users["owner"], project.slug, user="nina@example.com", role="creator")
    assert m.user == newcomer
    with pytest.raises(Conflict):
        svc.add_member(users["owner"], project, user="nina", role="reviewer")
    assert svc.change_role(users["owner"], project, "nina", role="reviewer").role == "reviewer"
    assert svc.change_role(users["owner"], project, str(newcomer.pk), role="owner").role == "owner"
    actions = list(AuditEvent.objects.filter(project_id=project.pk)
                   .values_list("action", flat=True))
    assert "studio.membership.granted" in actions and "studio.membership.changed" in actions


def test_non_owners_are_refused_and_outsiders_not_told(users, project):
    with pytest.raises(NotPermitted):
        svc.add_member(users["creator"], project, user="otto", role="creator")
    with pytest.raises(NotPermitted):
        svc.remove_member(users["auditor"], project, "cara")
    with pytest.raises(NotFound):
        svc.change_role(users["outsider"], project, "cara", role="owner")
    with pytest.raises(InvalidInput):
        svc.add_member(users["owner"], project, user="otto", role="boss")
    with pytest.raises(NotFound):
        svc.add_member(users["owner"], project, user="nobody", role="creator")


def test_the_last_owner_can_be_neither_removed_nor_demoted(users, project):
    with pytest.raises(Conflict, match="last owner"):
        svc.remove_member(users["owner"], project, "olga")
    with pytest.raises(Conflict, match="last owner"):
        svc.change_role(users["admin"], project, "olga", role="creator")
    svc.change_role(users["owner"], project, "cara", role="owner")
    svc.change_role(users["owner"], project, "olga", role="reviewer")  # another owner now
    with pytest.raises(Conflict, match="last owner"):
        svc.remove_member(users["creator"], project, "cara")
    svc.remove_member(users["creator"], project, "olga")
    assert not Membership.objects.filter(project=project, user=users["owner"]).exists()


def test_admins_create_teams_and_projects_owners_edit(users, project):
    with pytest.raises(NotPermitted):
        svc.create_team(users["owner"], name="Sales")
    team = svc.create_team(users["admin"], name="Sales")
    made = svc.create_project(users["admin"], team=team.slug, name="Spring", owner="olga")
    assert Membership.objects.get(project=made, user=users["owner"]).role == "owner"
    with pytest.raises(NotPermitted):
        svc.update_project(users["creator"], project, name="X")
    changed = svc.update_project(users["owner"], project, name="Launch 2", description="New")
    assert (changed.name, changed.description) == ("Launch 2", "New")
    assert AuditEvent.objects.filter(action="studio.project.changed").count() == 1


def test_invitation_is_single_use_hashed_and_mailed(users, project,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, raw = svc.invite(users["owner"], project, email="new@example.com",
                                     role="reviewer", link=_link)
    assert raw not in invitation.digest and len(invitation.digest) == 64
    assert len(mail.outbox) == 1 and _link(raw) in mail.outbox[0].body
    newcomer = make_user("neo")
    newcomer.email = "NEW@example.com"
    newcomer.save()
    m = svc.accept_invitation(newcomer, raw)
    assert m.role == "reviewer"
    with pytest.raises(Conflict, match="used already"):
        svc.accept_invitation(newcomer, raw)
    assert AuditEvent.objects.filter(action="studio.invitation.accepted").count() == 1


def test_invitation_refuses_the_wrong_person_an_expired_link_and_a_bad_one(users, project):
    _inv, raw = svc.invite(users["owner"], project, email="new@example.com", role="creator",
                           link=_link)
    with pytest.raises(NotPermitted, match="new@example.com"):
        svc.accept_invitation(users["outsider"], raw)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(Conflict, match="expired"):
        svc.accept_invitation(users["outsider"], raw)
    with pytest.raises(NotFound):
        svc.open_invitation("not-a-real-key")
    with pytest.raises(NotPermitted):
        svc.invite(users["creator"], project, email="x@example.com", role="creator", link=_link)
    with pytest.raises(InvalidInput):
        svc.invite(users["owner"], project, email="not an address", role="creator", link=_link)


def test_sign_up_at_the_link_creates_the_invited_account_once(users, project):
    _inv, raw = svc.invite(users["owner"], project, email="fresh@example.com", role="creator",
                           link=_link)
    with pytest.raises(InvalidInput, match="taken"):
        svc.sign_up_and_accept(raw, username="cara", password="a-long-pass-phrase-42")
    user = svc.sign_up_and_accept(raw, username="fresh", password="a-long-pass-phrase-42")
    assert user.email == "fresh@example.com"
    assert Membership.objects.get(project=project, user=user).role == "creator"
    with pytest.raises(Conflict):
        svc.sign_up_and_accept(raw, username="fresh2", password="a-long-pass-phrase-42")
