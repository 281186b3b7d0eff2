"""No path moves a protected label except an approved promotion: the bypass matrix.

REST label move, portal label move, Django admin, a management command (``shell -c``),
a write-scoped API token, the project's owner and a platform admin are all refused, and
the label row refuses writes made around the label service (save, update, delete, bulk).
"""

from __future__ import annotations

import ast
import pathlib

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from assay.accounts.services import create_token
from assay.core.exceptions import NotPermitted
from assay.studio.models import PromptLabel
from assay.studio.services.prompts import move_label, move_label_to
from governance.review.promotion import ApprovePromotion
from governance.review.promotion_models import Promotion, PromotionStatus
from tests.review.promotion_helpers import protected_template, requested

pytestmark = pytest.mark.django_db

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def setup(users, project, template):
    """production protected on version 1; version 2 by the creator waits."""
    v2 = protected_template(users, project, template)
    return {"template": template, "v2": v2,
            "label": PromptLabel.objects.get(template=template, name="production")}


def _still_on_v1(setup) -> None:
    label = PromptLabel.objects.get(template=setup["template"], name="production")
    assert label.version.number == 1, "the protected label moved"


@pytest.mark.parametrize("who", ["creator", "owner", "admin"])
def test_the_service_refuses_everyone(setup, users, who):
    with pytest.raises(NotPermitted, match="protected: it moves only when a promotion"):
        move_label(setup["template"], users[who], name="production", version=setup["v2"])
    with pytest.raises(NotPermitted, match="protected"):
        move_label_to(setup["template"], users[who], name="production",
                      version_ref=setup["v2"].pk)
    _still_on_v1(setup)


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_rest_label_move_is_refused(setup, users, who):
    client = APIClient()
    client.force_login(users[who])
    response = client.post(f"/api/v1/templates/{setup['template'].pk}/labels/production/",
                           {"version": setup["v2"].pk}, format="json")
    assert response.status_code == 403, response.content
    assert "promotion" in response.json()["detail"]
    _still_on_v1(setup)


def test_a_write_token_is_refused(setup, users):
    _token, raw = create_token(users["owner"], name="ci", scope="write", days=7)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post(f"/api/v1/templates/{setup['template'].pk}/labels/production/",
                           {"version": setup["v2"].pk}, format="json")
    assert response.status_code == 403, response.content
    _still_on_v1(setup)


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_portal_label_move_is_refused(setup, users, project, who):
    client = Client()
    client.force_login(users[who])
    response = client.post(f"/projects/{project.slug}/prompts/blurb/labels/",
                           {"name": "production", "version": setup["v2"].pk}, follow=True)
    assert "protected" in response.content.decode()
    _still_on_v1(setup)


def test_the_django_admin_cannot_change_or_add_labels(setup, users):
    client = Client()
    client.force_login(users["admin"])
    label = setup["label"]
    assert client.get("/admin/studio/promptlabel/").status_code == 200
    change = f"/admin/studio/promptlabel/{label.pk}/change/"
    assert client.post(change, {"template": label.template_id, "name": "production",
                                "version": setup["v2"].pk}).status_code == 403
    assert client.post("/admin/studio/promptlabel/add/", {
        "template": label.template_id, "name": "prod2",
        "version": setup["v2"].pk}).status_code == 403
    assert client.post(f"/admin/studio/promptlabel/{label.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    _still_on_v1(setup)


def test_a_management_command_writing_the_row_is_refused(setup):
    label, v2 = setup["label"], setup["v2"]
    script = (f"from assay.studio.models import PromptLabel; "
              f"label = PromptLabel.objects.get(pk={label.pk}); "
              f"label.version_id = {v2.pk}; label.save()")
    with pytest.raises(NotPermitted, match="went around it"):
        call_command("shell", command=script)
    _still_on_v1(setup)


def test_no_management_command_writes_labels_around_the_service():
    """Commands may move labels only through the label service (none does today)."""
    offenders = []
    for path in ROOT.glob("**/management/commands/*.py"):
        if ".venv" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if "PromptLabel" in names:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_direct_row_writes_are_refused(setup):
    label, v2 = setup["label"], setup["v2"]
    label.version = v2
    with pytest.raises(NotPermitted):
        label.save()
    with pytest.raises(NotPermitted):
        PromptLabel.objects.filter(pk=label.pk).update(version=v2)
    with pytest.raises(NotPermitted):
        label.delete()
    with pytest.raises(NotPermitted):
        PromptLabel.objects.filter(pk=label.pk).delete()
    with pytest.raises(NotPermitted):
        PromptLabel.objects.bulk_create([PromptLabel(template=label.template, name="x",
                                                     version=v2)])
    _still_on_v1(setup)


def test_a_forged_or_spent_promotion_does_not_open_the_guard(
        setup, users, django_capture_on_commit_callbacks):
    template, v2, owner = setup["template"], setup["v2"], users["owner"]
    # an object built in memory, never saved
    fake = Promotion(template=template, label="production", version=v2,
                     status=PromotionStatus.APPROVED)
    with pytest.raises(NotPermitted):
        move_label(template, owner, name="production", version=v2, promotion=fake)
    # a real promotion that is still open
    promotion = requested(users, template, v2, django_capture_on_commit_callbacks)
    with pytest.raises(NotPermitted):
        move_label(template, owner, name="production", version=v2, promotion=promotion)
    _still_on_v1(setup)
    # approved and applied: it cannot move the label again (e.g. back after a rollback)
    ApprovePromotion(owner, promotion).execute()
    promotion.refresh_from_db()
    v1 = template.versions.get(number=1)
    with pytest.raises(NotPermitted):
        move_label(template, owner, name="production", version=v1, promotion=promotion)
    with pytest.raises(NotPermitted):
        move_label(template, owner, name="production", version=v2, promotion=promotion)
