"""The owners' screens save through the services their REST twins call; bad input is a
field error in words and stores nothing; readers read, outsiders get 404."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from assay.core.exceptions import NotPermitted
from assay.generation.models import RegisteredModel
from assay.generation.services import submit_generation
from governance.review.brand import kit_for, policy_for
from governance.review.models import ApprovedFact
from governance.usage.models import Quota, UsageRecord

pytestmark = pytest.mark.django_db


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


KIT = {"voice": "Warm.", "banned_terms": "cheap → affordable, low-cost",
       "disclaimers": "Prices may change. | price, keyword:sale",
       "min_width": "512", "min_height": "256"}


def test_owner_saves_the_brand_kit_and_sees_what_changed(users, project):
    response = client(users["owner"]).post(reverse("portal:brand_kit", args=[project.slug]),
                                           KIT)
    assert response.status_code == 200
    kit = kit_for(project)
    assert kit.banned_terms == [{"term": "cheap", "alternatives": ["affordable", "low-cost"]}]
    assert kit.disclaimers == [{"text": "Prices may change.", "triggers": ["price",
                                                                          "keyword:sale"]}]
    assert kit.min_width == 512
    page = response.content.decode()
    assert "Banned “cheap”." in page and "New assets are checked with this brand kit" in page
    assert AuditEvent.objects.filter(action="review.brand_kit.updated").exists()


def test_a_bad_pattern_is_a_field_error_in_words_and_nothing_is_stored(users, project):
    bad = {**KIT, "disclaimers": "Results vary. | regex:(?=x)y"}
    response = client(users["owner"]).post(reverse("portal:brand_kit", args=[project.slug]),
                                           bad)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 1: the pattern" in page and "lookahead" in page
    assert kit_for(project).pk is None


def test_the_live_check_uses_the_services_rules(users, project):
    url = reverse("portal:brand_kit_check", args=[project.slug])
    owner = client(users["owner"])
    ok = owner.post(url, {"field": "banned_terms", "banned_terms": "cheap → affordable"})
    assert "1 banned term(s), written correctly." in ok.content.decode()
    bad = owner.post(url, {"field": "disclaimers", "disclaimers": "Hi | sometimes"})
    assert "Line 1: needs text and triggers" in bad.content.decode()
    assert client(users["outsider"]).post(url, {"field": "voice"}).status_code == 404


def test_members_read_but_cannot_save(users, project):
    for name in ("brand_kit", "facts", "review_policy", "project_quotas", "project_models"):
        url = reverse(f"portal:{name}", args=[project.slug])
        assert client(users["creator"]).get(url).status_code == 200
        refused = client(users["creator"]).post(url, KIT)
        assert refused.status_code == 403, name
        assert "owners can" in refused.content.decode()
        assert client(users["outsider"]).get(url).status_code == 404


CSV = ("statement,source_url,valid_from,valid_until\n"
       "The kettle boils in 3 minutes.,https://example.com/spec,2026-01-01,\n"
       "=1+2 is not a formula,,,\n")


def test_csv_round_trip_through_rest(users, project):
    api = APIClient()
    api.force_login(users["owner"])
    base = f"/api/v1/projects/{project.slug}/facts/"
    upload = io.BytesIO(CSV.encode())
    upload.name = "facts.csv"
    response = api.post(base + "import/", {"file": upload, "mode": "replace"},
                        format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["imported"] == 2
    exported = b"".join(api.get(base + "export/").streaming_content).decode()
    assert "'=1+2 is not a formula" in exported  # safe in a spreadsheet
    again = io.BytesIO(exported.encode())
    again.name = "again.csv"
    assert api.post(base + "import/", {"file": again, "mode": "replace"},
                    format="multipart").status_code == 201
    assert sorted(ApprovedFact.objects.filter(project=project).values_list(
        "statement", flat=True)) == ["=1+2 is not a formula", "The kettle boils in 3 minutes."]


def test_a_bad_row_imports_nothing_and_names_each_row(users, project):
    bad = CSV + ",https://example.com,,\nLate,,2026-05-01,2026-01-01\nOdd,nope,,\n"
    response = client(users["owner"]).post(
        reverse("portal:facts", args=[project.slug]),
        {"action": "import", "mode": "add",
         "file": _file(bad)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported: 3 row(s) need fixing" in page
    assert "Row 4: needs a statement." in page
    assert "Row 5: ends before it starts." in page
    assert "Row 6: the source “nope” is not a web address" in page
    assert not ApprovedFact.objects.filter(project=project).exists()


def _file(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("facts.csv", text.encode(), content_type="text/csv")


def test_owner_adds_and_removes_a_fact(users, project):
    owner = client(users["owner"])
    url = reverse("portal:facts", args=[project.slug])
    assert owner.post(url, {"action": "add", "statement": "Kites fly.",
                            "valid_from": "2026-01-01"}).status_code == 200
    fact = ApprovedFact.objects.get(project=project)
    bad = owner.post(url, {"action": "add", "statement": "Late", "valid_from": "2026-05-01",
                           "valid_until": "2026-01-01"})
    assert bad.status_code == 400 and "ends before it starts" in bad.content.decode()
    assert owner.post(url, {"action": "remove", "fact": fact.pk}).status_code == 200
    assert not ApprovedFact.objects.filter(project=project).exists()


def _policy_post(**extra):
    data = {"stages-TOTAL_FORMS": "2", "stages-INITIAL_FORMS": "1",
            "stages-MIN_NUM_FORMS": "0", "stages-MAX_NUM_FORMS": "20",
            "stages-0-name": "Legal", "stages-0-roles": ["owner"],
            "stages-0-approvals_required": "2", "stages-0-due_hours": "24",
            "stages-0-ORDER": "2",
            "stages-1-name": "Brand", "stages-1-roles": ["reviewer", "owner"],
            "stages-1-approvals_required": "1", "stages-1-due_hours": "48",
            "stages-1-ORDER": "1",
            "blocking_severities": ["critical"], "action": "save"}
    data.update(extra)
    return data


def test_owner_reorders_stages_and_sets_quorum(users, project):
    url = reverse("portal:review_policy", args=[project.slug])
    response = client(users["owner"]).post(url, _policy_post())
    assert response.status_code == 200, response.content.decode()[:2000]
    policy = policy_for(project)
    assert [s["name"] for s in policy.stages] == ["Brand", "Legal"]
    assert policy.stages[1] == {"name": "Legal", "approvals_required": 2, "roles": ["owner"],
                                "due_hours": 24}
    assert policy.blocking_severities == ["critical"] and policy.auto_submit is False


def test_a_stage_nobody_may_decide_is_refused_in_words(users, project):
    url = reverse("portal:review_policy", args=[project.slug])
    response = client(users["owner"]).post(url, _policy_post(**{"stages-0-roles": []}))
    assert response.status_code == 400
    assert "Stage 2: roles must be reviewer and/or owner" in response.content.decode()
    assert policy_for(project).pk is None


def test_adding_and_removing_stages(users, project):
    url = reverse("portal:review_policy", args=[project.slug])
    owner = client(users["owner"])
    added = owner.post(url, _policy_post(action="add"))
    assert 'name="stages-2-name"' in added.content.decode()
    owner.post(url, _policy_post(**{"stages-0-DELETE": "on"}))
    assert [s["name"] for s in policy_for(project).stages] == ["Brand"]


def test_a_limit_below_this_months_use_warns(users, project, template):
    import datetime as dt

    from django.utils import timezone

    job = submit_generation(users["creator"], project=project, template="blurb",
                            variables={"product": "Kite"})
    UsageRecord.objects.create(job=job, user=users["creator"], team=project.team,
                               project=project, generator_id="dummy-echo", jobs=5,
                               day=timezone.now().astimezone(dt.UTC).date())
    response = client(users["owner"]).post(
        reverse("portal:project_quotas", args=[project.slug]),
        {"scope": "project", "metric": "jobs", "limit": "2"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This limit is below what is already used this month (5 jobs)" in page
    assert Quota.objects.get(project=project).limit == 2
    bad = client(users["owner"]).post(
        reverse("portal:project_quotas", args=[project.slug]),
        {"scope": "team", "metric": "jobs", "limit": "2"})
    assert bad.status_code == 400 and "Only platform admins can set team quotas" in \
        bad.content.decode()


def test_the_allow_list_refuses_a_model_at_submission(users, project, template):
    for name in ("echo-a", "echo-b"):
        RegisteredModel.objects.create(name=name, generator_id="dummy-echo",
                                       source_kind="hub", source=f"x/{name}",
                                       revision="v1", license="MIT")
    response = client(users["owner"]).post(
        reverse("portal:project_models", args=[project.slug]), {"models": ["echo-a"]})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="generation.project_models.updated").exists()
    submit_generation(users["creator"], project=project, template="blurb",
                      variables={"product": "Kite"}, model="echo-a")
    with pytest.raises(NotPermitted):
        submit_generation(users["creator"], project=project, template="blurb",
                          variables={"product": "Kite"}, model="echo-b")
    api = APIClient()
    api.force_login(users["owner"])
    url = f"/api/v1/projects/{project.slug}/models/"
    assert api.put(url, {"models": ["echo-b"]}, format="json").json()["allowed"] == ["echo-b"]
    unknown = api.put(url, {"models": ["nope"]}, format="json")
    assert unknown.status_code == 400 and "No registered model 'nope'" in unknown.content.decode()
    api.force_login(users["creator"])
    assert api.put(url, {"models": []}, format="json").status_code == 403
    assert api.get(url).json()["allowed"] == ["echo-b"]


@pytest.mark.parametrize("body", [
    {}, {"mode": "merge", "file": b"statement\nx\n"}, {"file": b"\xff\xfe bad"},
    {"file": b"colour\nred\n"}, {"file": b"statement\n"}, {"file": b"statement,x\na,b,c\n"},
])
def test_bad_imports_are_400s_in_words(users, project, body):
    api = APIClient()
    api.force_login(users["owner"])
    data = dict(body)
    if "file" in body:
        data["file"] = io.BytesIO(body["file"])
        data["file"].name = "f.csv"
    response = api.post(f"/api/v1/projects/{project.slug}/facts/import/", data,
                        format="multipart")
    assert response.status_code == 400, response.content
    assert response.json(), "a 400 says what to fix"
    assert not ApprovedFact.objects.filter(project=project).exists()


@pytest.mark.parametrize("body", [{}, {"models": "x"}, {"models": [1]}, [], {"models": [],
                                                                            "extra": 1}])
def test_bad_model_lists_are_400s(users, project, body):
    api = APIClient()
    api.force_login(users["owner"])
    response = api.put(f"/api/v1/projects/{project.slug}/models/", body, format="json")
    assert response.status_code == 400, response.content
