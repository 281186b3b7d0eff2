"""REST for governed promotion: protect, golden set, request, detail, approve, reject."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from assay.studio.models import PromptLabel
from assay.studio.services.prompts import add_version
from governance.review.promotion_models import Promotion
from tests.review.promotion_helpers import SAMPLES, run_golden_set

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_rest_promotion_flow(users, project, template, django_capture_on_commit_callbacks):
    owner, creator = client_for(users["owner"]), client_for(users["creator"])
    base = f"/api/v1/templates/{template.pk}"
    v1 = template.versions.get(number=1)
    # production on v1 by hand, then protected by the owner (the creator may not)
    assert creator.post(f"{base}/labels/production/", {"version": v1.pk},
                        format="json").status_code == 200
    assert creator.post(f"/api/v1/projects/{project.slug}/protected-labels/",
                        {"name": "production"}, format="json").status_code == 403
    made = owner.post(f"/api/v1/projects/{project.slug}/protected-labels/",
                      {"name": "production", "template": template.pk}, format="json")
    assert made.status_code == 201, made.content
    listed = creator.get(f"/api/v1/projects/{project.slug}/protected-labels/").json()
    assert [p["name"] for p in listed] == ["production"]
    # golden set and a second version by the creator
    assert creator.put(f"{base}/golden-set/", {"samples": SAMPLES},
                       format="json").json() == {"samples": SAMPLES}
    bad = creator.put(f"{base}/golden-set/", {"samples": "x"}, format="json")
    assert bad.status_code == 400
    v2_id = add_version(template, users["creator"], text="New {{ product }} for {{ audience }}.",
                        variables=["product", {"name": "audience", "required": False}],
                        generator_id="dummy-echo").pk
    # request
    with django_capture_on_commit_callbacks(execute=False):
        asked = creator.post(f"{base}/promotions/", {"version": v2_id, "label": "production",
                                                      "note": "clearer"}, format="json")
    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert body["status"] == "open" and body["ready"] is False
    assert body["current_version"] == 1 and body["version"] == 2
    assert len(body["samples"]) == 2 and body["current_text"] == v1.text
    promotion = Promotion.objects.get(pk=body["id"])
    run_golden_set(promotion, django_capture_on_commit_callbacks)
    detail = creator.get(f"{base}/promotions/{promotion.pk}/").json()
    assert detail["ready"] is True
    assert all(s["candidate"]["checks"] and s["current"]["checks"] for s in detail["samples"])
    assert [p["id"] for p in creator.get(f"{base}/promotions/").json()] == [promotion.pk]
    # the version pins what was reviewed; then approve
    url = f"{base}/promotions/{promotion.pk}"
    assert owner.post(f"{url}/approve/", {}, format="json").status_code == 400
    assert owner.post(f"{url}/approve/", {"version": 1}, format="json").status_code == 409
    approved = owner.post(f"{url}/approve/", {"version": 2, "comment": "ok"}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved" and approved.json()["applied_at"]
    assert PromptLabel.objects.get(template=template, name="production").version_id == v2_id
    again = owner.post(f"{url}/reject/", {"comment": "late"}, format="json")
    assert again.status_code == 409 and "already approved" in again.json()["detail"]


def test_rest_refusals_say_what_to_do(users, project, template,
                                      django_capture_on_commit_callbacks):
    creator, outsider = client_for(users["creator"]), client_for(users["outsider"])
    base = f"/api/v1/templates/{template.pk}"
    v1 = template.versions.get(number=1)
    refused = creator.post(f"{base}/promotions/", {"version": v1.pk, "label": "production"},
                           format="json")
    assert refused.status_code == 400 and "not protected" in refused.json()["detail"]
    assert outsider.get(f"{base}/promotions/").status_code == 404
    assert outsider.get(f"{base}/golden-set/").status_code == 404
    assert creator.get(f"{base}/promotions/999/").status_code == 404
    unknown = creator.post(f"{base}/promotions/", {"version": v1.pk, "label": "p", "x": 1},
                           format="json")
    assert unknown.status_code == 400 and "unknown field" in unknown.content.decode()
    owner = client_for(users["owner"])
    row = owner.post(f"/api/v1/projects/{project.slug}/protected-labels/",
                     {"name": "production"}, format="json").json()
    assert creator.delete(f"/api/v1/projects/{project.slug}/protected-labels/{row['id']}/"
                          ).status_code == 403
    assert owner.delete(f"/api/v1/projects/{project.slug}/protected-labels/{row['id']}/"
                        ).status_code == 204
