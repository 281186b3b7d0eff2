"""Brand kit, approved facts and review policy over REST: strict input, PUT replaces and
PATCH changes the fields sent, one transaction per request, and a 4xx changes nothing (the
rows and the audit log are as they were)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from assay.core.exceptions import InvalidInput
from governance.review import brand
from governance.review.models import ApprovedFact, BrandKit, ReviewPolicy

pytestmark = pytest.mark.django_db

KIT_URL = "/api/v1/projects/launch/brand-kit/"
POLICY_URL = "/api/v1/projects/launch/review-policy/"

KIT = {"voice": "Warm, plain.",
       "banned_terms": [{"term": "cheap", "alternatives": ["affordable"]}],
       "disclaimers": [{"text": "Prices include VAT.", "triggers": ["price"]}],
       "min_width": 512, "min_height": 384,
       "facts": [{"statement": "Kite charges in 30 minutes.",
                  "source_url": "https://example.com/kite", "valid_until": "2030-01-01"}]}
POLICY = {"stages": [{"name": "brand", "approvals_required": 2, "roles": ["reviewer"],
                      "due_hours": 24}],
          "blocking_severities": ["critical"], "auto_submit": False}


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def raw(client: APIClient, method: str, url: str, body: str) -> Any:
    return client.generic(method, url, body, content_type="application/json")


def snapshot(project: Any) -> dict[str, Any]:
    """Everything a write could change: the kit, the facts, the policy, the audit log."""
    kit = BrandKit.objects.filter(project=project).values(
        "voice", "banned_terms", "disclaimers", "min_width", "min_height").first()
    policy = ReviewPolicy.objects.filter(project=project).values(
        "stages", "blocking_severities", "auto_submit").first()
    facts = list(ApprovedFact.objects.filter(project=project).values_list(
        "statement", "source_url", "valid_from", "valid_until"))
    return {"kit": kit, "policy": policy, "facts": facts,
            "events": list(AuditEvent.objects.values_list("id", flat=True))}


@pytest.fixture
def owner(users: dict[str, Any], project: Any) -> APIClient:
    """The owner's client, with a kit, facts and a policy already saved."""
    client = api(users["owner"])
    assert client.put(KIT_URL, KIT, format="json").status_code == 200
    assert client.put(POLICY_URL, POLICY, format="json").status_code == 200
    return client


def assert_refused(response: Any, before: dict[str, Any], project: Any, *,
                   status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"detail", "code", "errors"} and body["detail"]
    assert snapshot(project) == before, "a refused write changed something"
    return body


# --- non-object bodies and unknown fields change nothing --------------------------------

@pytest.mark.parametrize("body", ["[]", '{"unknown": 1}', "null", '"kit"', "7",
                                  json.dumps({**KIT, "unknown": 1})])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_non_object_or_unknown_field_empties_nothing(owner, project, body, method):
    """A PUT of [] or {"unknown": 1} used to empty the banned terms and disclaimers."""
    before = snapshot(project)
    assert before["kit"]["banned_terms"] and before["kit"]["disclaimers"]
    assert_refused(raw(owner, method, KIT_URL, body), before, project)
    assert_refused(raw(owner, method, POLICY_URL, body), before, project)


# --- brand-kit fields of the wrong type: 400, never a 500 or a coercion -----------------

@pytest.mark.parametrize("change,field", [
    ({"voice": 5}, "voice"),
    ({"voice": {"tone": "warm"}}, "voice"),
    ({"voice": "x" * 5001}, "voice"),  # refused, never cut
    ({"voice": "a\u0000b"}, None),  # refused by the JSON parser, before any field
    ({"banned_terms": "cheap"}, "banned_terms"),
    ({"banned_terms": {"term": "cheap"}}, "banned_terms"),
    ({"banned_terms": [{"term": 5}]}, "banned_terms.0.term"),
    ({"banned_terms": [{"term": "x" * 101}]}, "banned_terms.0.term"),
    ({"banned_terms": [{"term": "cheap", "alternatives": "fair"}]},
     "banned_terms.0.alternatives"),
    ({"banned_terms": [{"term": "cheap", "colour": "red"}]}, "banned_terms.0.colour"),
    ({"disclaimers": [{"text": ["VAT"], "triggers": ["price"]}]}, "disclaimers.0.text"),
    ({"disclaimers": [{"text": "VAT.", "triggers": "price"}]}, "disclaimers.0.triggers"),
    ({"disclaimers": [{"text": "VAT.", "triggers": [True]}]}, "disclaimers.0.triggers.0"),
    ({"min_width": "300"}, "min_width"),
    ({"min_width": True}, "min_width"),
    ({"min_width": 1.5}, "min_width"),
    ({"min_width": 10**30}, None),  # the parser refuses more than 19 digits
    ({"min_width": 2**63}, "min_width"),
    ({"min_height": 9000}, "min_height"),
    ({"facts": "Kite is fast."}, "facts"),
    ({"facts": [{"statement": 5}]}, "facts.0.statement"),
    ({"facts": [{"statement": "s", "valid_from": 20260101}]}, "facts.0.valid_from"),
    ({"facts": [{"statement": "s", "valid_from": "2026-13-01"}]}, "facts.0.valid_from"),
    ({"facts": [{"statement": "s", "source_url": "javascript:alert(1)"}]},
     "facts.0.source_url"),
])
def test_wrong_types_are_a_400_naming_the_field(owner, project, change, field):
    before = snapshot(project)
    body = assert_refused(owner.put(KIT_URL, {**KIT, **change}, format="json"), before,
                          project)
    assert field is None or field in body["errors"], body
    assert len(body["detail"]) < 700  # the bad value is not repeated at length


@pytest.mark.parametrize("text", ['{"voice": "\\ud800", "banned_terms": [], "disclaimers": []}',
                                  '{"voice": "", "banned_terms": [], "disclaimers": [], '
                                  '"min_width": 1e400}',
                                  '{"voice": "", "banned_terms": [], "disclaimers": [], '
                                  '"min_width": NaN}'])
def test_lone_surrogates_and_non_finite_numbers_are_refused(owner, project, text):
    before = snapshot(project)
    assert_refused(raw(owner, "PUT", KIT_URL, text), before, project)


# --- one transaction per request ---------------------------------------------------------

def test_a_put_that_answers_400_changes_neither_kit_nor_facts(owner, project):
    """The kit and the facts were two transactions: a bad fact left the new kit saved."""
    before = snapshot(project)
    body = assert_refused(owner.put(KIT_URL, {
        "voice": "Shouty!", "banned_terms": [], "disclaimers": [],
        "facts": [{"statement": "Kite is fast.", "valid_from": "2026-05-01",
                   "valid_until": "2026-01-01"}]}, format="json"), before, project)
    assert "ends before it starts" in body["detail"]
    # a rule only the service knows (an unknown trigger), after a valid kit: same
    assert_refused(owner.put(KIT_URL, {**KIT, "disclaimers": [
        {"text": "VAT.", "triggers": ["price"]}, {"text": "T&C.", "triggers": ["weather"]}]},
        format="json"), before, project)
    assert_refused(owner.patch(KIT_URL, {"voice": "Shouty!", "facts": [{"statement": " "}]},
                               format="json"), before, project)


def test_a_refused_policy_write_changes_nothing(owner, project):
    before = snapshot(project)
    for body in ({"stages": "review"}, {"stages": [{"name": "x", "approvals_required": "2"}]},
                 {"stages": [{"name": "x", "approvals_required": 10**30}]},
                 {"stages": [{"name": "x", "due_hours": "48"}]},
                 {"stages": [{"name": "x", "roles": ["creator"]}]},
                 {"stages": [{"name": "x"}, {"name": "x"}]},
                 {"stages": [{"name": "x"}], "auto_submit": "yes"},
                 {"stages": [{"name": "x"}], "blocking_severities": ["catastrophic"]},
                 {"stages": [{"name": "x"}], "blocking_severities": "high"}, {}):
        assert_refused(owner.put(POLICY_URL, body, format="json"), before, project)
    assert_refused(owner.patch(POLICY_URL, {"auto_submit": 1}, format="json"), before, project)
    assert_refused(raw(owner, "PUT", POLICY_URL, '{"stages": [{"name": "x", "due_hours": '
                                                 '1e400}]}'), before, project)


# --- PUT replaces, PATCH changes the fields sent ----------------------------------------

def test_put_replaces_the_kit_with_documented_defaults(owner, project):
    missing = owner.put(KIT_URL, {"voice": "Calm."}, format="json")
    assert missing.status_code == 400
    assert {"banned_terms", "disclaimers"} <= set(missing.json()["errors"])
    answer = owner.put(KIT_URL, {"voice": "Calm.", "banned_terms": [], "disclaimers": []},
                       format="json")
    assert answer.status_code == 200, answer.json()
    got = answer.json()
    assert (got["voice"], got["banned_terms"], got["disclaimers"]) == ("Calm.", [], [])
    assert (got["min_width"], got["min_height"]) == (256, 256)  # the documented defaults
    assert [f["statement"] for f in got["facts"]] == ["Kite charges in 30 minutes."]  # kept


def test_patch_changes_only_the_fields_sent(owner, project):
    kit_events = AuditEvent.objects.filter(action="review.brand_kit.updated").count()
    answer = owner.patch(KIT_URL, {"voice": "Calm."}, format="json")
    assert answer.status_code == 200, answer.json()
    got = answer.json()
    assert got["voice"] == "Calm." and got["banned_terms"] == KIT["banned_terms"]
    assert got["disclaimers"] == KIT["disclaimers"] and got["min_width"] == 512
    assert len(got["facts"]) == 1
    event = AuditEvent.objects.filter(action="review.brand_kit.updated").latest("id")
    assert event.data["after"] == {"voice": "Calm."}
    facts = owner.patch(KIT_URL, {"facts": []}, format="json")
    assert facts.status_code == 200 and facts.json()["facts"] == []
    assert facts.json()["voice"] == "Calm."
    assert AuditEvent.objects.filter(action="review.brand_kit.updated").count() == kit_events + 1
    nested = owner.patch(KIT_URL, {"banned_terms": [{"alternatives": []}]}, format="json")
    assert nested.status_code == 400 and "banned_terms.0.term" in nested.json()["errors"]


def test_policy_put_and_patch(owner, project):
    put = owner.put(POLICY_URL, {"stages": [{"name": "review"}]}, format="json")
    assert put.status_code == 200, put.json()
    assert put.json() == {"stages": [{"name": "review", "approvals_required": 1,
                                      "roles": ["reviewer", "owner"], "due_hours": 48}],
                          "blocking_severities": ["high", "critical"], "auto_submit": True}
    patch = owner.patch(POLICY_URL, {"auto_submit": False}, format="json")
    assert patch.status_code == 200
    assert patch.json()["auto_submit"] is False
    assert patch.json()["stages"][0]["name"] == "review"
    policy = ReviewPolicy.objects.get(project=project)
    assert policy.auto_submit is False and policy.blocking_severities == ["high", "critical"]
    event = AuditEvent.objects.filter(action="review.policy.updated").latest("id")
    assert event.data["before"]["auto_submit"] is True and event.data["after"]["auto_submit"] \
        is False


def test_only_owners_write_and_others_change_nothing(owner, users, project):
    before = snapshot(project)
    for role in ("reviewer", "creator"):
        for method in ("put", "patch"):
            assert_refused(getattr(api(users[role]), method)(KIT_URL, KIT, format="json"),
                           before, project, status=403)
            assert_refused(getattr(api(users[role]), method)(POLICY_URL, POLICY,
                                                             format="json"),
                           before, project, status=403)
    assert api(users["outsider"]).patch(KIT_URL, {"voice": "x"},
                                        format="json").status_code == 404


def test_error_messages_echo_at_most_about_200_characters(owner, users, project):
    trigger = "w" * 480
    answer = owner.put(KIT_URL, {**KIT, "disclaimers": [{"text": "T.", "triggers": [trigger]}]},
                       format="json")
    assert answer.status_code == 400
    assert trigger not in json.dumps(answer.json())
    policy = owner.patch(POLICY_URL, {"blocking_severities": ["s" * 20] * 10}, format="json")
    assert policy.status_code == 400 and len(policy.json()["detail"]) < 300
    with pytest.raises(InvalidInput) as caught:
        brand.update_policy(users["owner"], project,
                            {"stages": [{"name": "x"}], "blocking_severities": ["z" * 5000]})
    assert len(str(caught.value)) < 400


def test_the_schema_documents_put_and_patch_with_their_inputs():
    doc = yaml.safe_load(Client().get("/api/v1/schema/").content)
    schemas = doc["components"]["schemas"]
    for url, required in (("/api/v1/projects/{slug}/brand-kit/",
                           {"voice", "banned_terms", "disclaimers"}),
                          ("/api/v1/projects/{slug}/review-policy/", {"stages"})):
        operations = doc["paths"][url]
        assert {"get", "put", "patch"} <= set(operations)
        put = operations["put"]["requestBody"]["content"]["application/json"]["schema"]
        patch = operations["patch"]["requestBody"]["content"]["application/json"]["schema"]
        assert set(schemas[put["$ref"].rsplit("/", 1)[1]]["required"]) == required
        assert "required" not in schemas[patch["$ref"].rsplit("/", 1)[1]]
        assert "Replace" in operations["put"]["summary"]
        assert "200" in operations["patch"]["responses"]
