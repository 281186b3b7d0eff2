"""The API's contract: every error is JSON ``{detail, code, errors}``, and each malformed
input that once answered 500 is now a 4xx that says what to fix and stores nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client, RequestFactory
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient

from assay.api import handlers
from assay.audit.models import AuditEvent
from assay.core.rest import exception_handler
from assay.generation.models import GenerationJob

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def raw_post(client: APIClient, url: str, body: str | bytes,
             content_type: str = "application/json"):
    return client.generic("POST", url, body, content_type=content_type)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """JSON, the given status, and exactly the documented shape."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and isinstance(body["errors"], dict)
    if code:
        assert body["code"] == code, body
    return body


def nothing_stored(events_before: int) -> None:
    assert not GenerationJob.objects.exists()
    assert AuditEvent.objects.count() == events_before


@pytest.fixture
def creator(users, template) -> APIClient:
    return client_for(users["creator"])


@pytest.fixture
def job_id(creator, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=False):
        response = creator.post(URL, {"project": "launch", "template": "blurb",
                                      "variables": {"product": "Kite"}})
    assert response.status_code == 201, response.json()
    return response.json()["id"]


# --- one shape for every error ---------------------------------------------------------

def test_validation_errors_name_each_field(creator):
    body = assert_error(creator.post(URL, {"project": True, "surprise": 1}), 400, "invalid")
    assert "unknown field" in body["errors"]["surprise"][0]
    assert "surprise" in body["detail"]


def test_unauthenticated_is_401_with_the_shape(template):
    body = assert_error(APIClient().get(URL), 401, "not_authenticated")
    assert body["errors"] == {}
    assert_error(APIClient().get(URL, HTTP_AUTHORIZATION="Bearer nope"), 401,
                 "authentication_failed")


def test_forbidden_is_403_with_the_shape(users):
    assert_error(client_for(users["creator"]).get("/api/v1/plugins/"), 403, "forbidden")


def test_unknown_object_and_unknown_route_are_404_json(creator):
    assert_error(creator.get(f"{URL}00000000-0000-0000-0000-000000000000/"), 404, "not_found")
    assert_error(creator.get(f"{URL}not-a-uuid/"), 404, "not_found")
    body = assert_error(creator.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert "/api/v1/schema/" in body["detail"]
    assert_error(Client().get("/api/v1/no-such-thing/"), 404, "not_found")


def test_portal_pages_keep_their_html_404(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_wrong_method_is_405_json(creator):
    body = assert_error(creator.delete(URL), 405, "method_not_allowed")
    assert "DELETE" in body["detail"]
    assert_error(creator.put("/api/v1/generators/", {}), 405, "method_not_allowed")


def test_form_bodies_are_415_json(creator):
    response = creator.post(URL, "project=launch",
                            content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_a_body_past_the_upload_limit_is_413_json(creator, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    events = AuditEvent.objects.count()
    body = json.dumps({"project": "launch", "template": "blurb",
                       "variables": {"product": "x" * 2000}})
    assert_error(raw_post(creator, URL, body), 413, "too_large")
    nothing_stored(events)


def test_throttled_answers_retry_after():
    response = exception_handler(Throttled(wait=2.2), {})
    assert response.status_code == 429 and response["Retry-After"] == "3"
    assert response.data["code"] == "throttled" and response.data["errors"] == {}


def test_server_errors_under_api_are_json_and_pages_stay_html():
    import assay.urls

    assert assay.urls.handler500 == "assay.api.handlers.server_error"
    request = RequestFactory().get("/api/v1/generations/")
    response = handlers.server_error(request)
    assert response.status_code == 500
    body = json.loads(response.content)
    assert body["code"] == "server_error" and set(body) == {"detail", "code", "errors"}
    page = handlers.server_error(RequestFactory().get("/projects/"))
    assert page.status_code == 500 and not page["Content-Type"].startswith("application/json")


def test_errors_django_raises_itself_are_json_under_api():
    from django.core.exceptions import RequestDataTooBig

    api = RequestFactory().post("/api/v1/generations/")
    too_big = handlers.bad_request(api, RequestDataTooBig("big"))
    assert too_big.status_code == 413 and json.loads(too_big.content)["code"] == "too_large"
    assert json.loads(handlers.bad_request(api, None).content)["code"] == "bad_request"
    assert json.loads(handlers.permission_denied(api, None).content)["code"] == "forbidden"
    assert handlers.bad_request(RequestFactory().get("/login/"), None)["Content-Type"] \
        .startswith("text/html")


def test_quota_refusals_keep_their_details_in_errors():
    from assay.core.exceptions import QuotaExceeded

    exc = QuotaExceeded("Team 'acme' has used 1 of its 1 jobs.", quota={"limit": 1},
                        retry_after=60)
    response = exception_handler(exc, {})
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert response.data == {"detail": "Team 'acme' has used 1 of its 1 jobs.",
                             "code": "quota_exceeded", "errors": {"quota": {"limit": 1}}}


# --- the inputs that answered 500 --------------------------------------------------------

def test_format_suffixes_are_not_routes(creator, job_id):
    for url in (f"{URL}{job_id}/cancel.json", f"{URL}{job_id}.json", f"{URL[:-1]}.json",
                f"/api/v1/assets/{job_id}/content.json"):
        response = creator.post(url, {}) if "cancel" in url else creator.get(url)
        assert_error(response, 404, "not_found")
    assert GenerationJob.objects.get(pk=job_id).status == "queued"


@pytest.mark.parametrize("url", [
    f"{URL}?project=%00", f"{URL}?status=queued%00", f"{URL}?x=%00",
    f"{URL}%00/", "/api/v1/projects/launch%00/", "/api/v1/assets/?kind=%00",
])
def test_nul_in_urls_is_refused_before_any_query(creator, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        body = assert_error(creator.get(url), 400, "invalid")
    assert "NUL" in body["detail"]
    assert not queries.captured_queries


def test_nul_in_portal_urls_is_a_plain_400(db):
    response = Client().get("/login/?next=%00")
    assert response.status_code == 400


@pytest.mark.parametrize("raw,words", [
    ('{"project": "launch", "template": "blurb", "label": "a\\u0000b"}', "NUL"),
    ('{"project": "launch", "template": "blurb", "variables": {"product": "\\u0000"}}', "NUL"),
    ('{"project": "launch\\u0000", "template": "blurb"}', "NUL"),
    ('{"project": "launch", "template": "blurb", "variables": {"\\u0000": "x"}}', "NUL"),
    ('{"project": "launch", "template": "blurb", "variables": {"product": "\\ud800"}}',
     "surrogate"),
    ('{"project": "launch", "template": "blurb", "label": "\\udfff"}', "surrogate"),
    ('{"project": "launch", "template": "blurb", "parameters": {"steps": 1e400}}', "finite"),
    ('{"project": "launch", "template": "blurb", "parameters": {"steps": NaN}}', "finite"),
    ('{"project": "launch", "template": "blurb", "parameters": {"seed": ' + "9" * 5000 + "}}",
     "too many digits"),
    ("[" * 100_000 + "]" * 100_000, "nested"),
    ('{"project": ' * 50_000 + "1" + "}" * 50_000, "nested"),
    (b'{"project": "\xff"}', "UTF-8"),
    ("{'project': 'launch'}", "not valid JSON"),
])
def test_json_that_cannot_be_stored_is_a_400(creator, raw, words):
    events = AuditEvent.objects.count()
    body = assert_error(raw_post(creator, URL, raw), 400)
    assert words in body["detail"], body
    nothing_stored(events)


@pytest.mark.parametrize("payload,field,words", [
    ({"project": "²"}, "project", "not a slug"),
    ({"project": True}, "project", "slug"),
    ({"project": ["launch"]}, "project", "slug"),
    ({"project": 2**63}, "project", "not an id"),
    ({"template": "²"}, "template", "not a slug"),
    ({"template": {"slug": "blurb"}}, "template", "slug"),
    ({"version": ["1"]}, "version", "whole number"),
    ({"version": {"n": 1}}, "version", "whole number"),
    ({"version": "²"}, "version", "whole number"),
    ({"version": 2**63}, "version", ""),
    ({"prompt_version": "²"}, "prompt_version", "whole number"),
    ({"generator": ["dummy-echo"]}, "generator", "valid string"),
    ({"generator": {"id": "dummy-echo"}}, "generator", "valid string"),
    ({"label": 5}, "label", "valid string"),
    ({"model": True}, "model", "valid string"),
    ({"variables": {"product": 5}}, "variables.product", "valid string"),
    ({"variables": {"product": ["Kite"]}}, "variables.product", "valid string"),
    ({"variables": "product=Kite"}, "variables", "must be an object"),
    ({"parameters": ["seed", 5]}, "parameters", "must be an object"),
    ({"parameters": {"seed": "--5"}}, "parameters.seed", "whole number"),
    ({"parameters": {"seed": "²"}}, "parameters.seed", "whole number"),
    ({"parameters": {"seed": "5"}}, "parameters.seed", "JSON integer"),
    ({"parameters": {"seed": True}}, "parameters.seed", "JSON integer"),
    ({"parameters": {"seed": 5.5}}, "parameters.seed", "JSON integer"),
    ({"parameters": {"steps": "²"}}, "parameters.steps", "whole number"),
    ({"parameters": {"steps": "--5"}}, "parameters.steps", "whole number"),
    ({"parameters": {"steps": "9" * 5000}}, "parameters.steps", "whole number"),
    ({"parameters": {"steps": {"n": 1}}}, "parameters.steps", "single value"),
    ({"parameters": {"steps": [1]}}, "parameters.steps", "single value"),
    ({"parameters": {f"p{i}": 1 for i in range(51)}}, "parameters", "at most 50"),
    ({"parent_asset": 5}, "parent_asset", "UUID"),
    ({"parent_asset": "not-a-uuid"}, "parent_asset", "UUID"),
])
def test_wrong_types_and_ranges_are_400s_naming_the_field(creator, payload, field, words):
    events = AuditEvent.objects.count()
    body = {"project": "launch", "template": "blurb", "variables": {"product": "Kite"},
            **payload}
    error = assert_error(creator.post(URL, body), 400, "invalid")
    assert field in error["errors"], error
    assert words in " ".join(error["errors"][field]), error
    nothing_stored(events)


def test_digits_beyond_an_id_are_a_slug_that_is_not_found(creator):
    body = assert_error(creator.post(URL, {"project": "9" * 30, "template": "9" * 30}), 404)
    assert "project" in body["errors"]


def test_seed_out_of_the_generators_range_is_refused_by_the_service(creator):
    error = assert_error(creator.post(URL, {"project": "launch", "template": "blurb",
                                            "variables": {"product": "Kite"},
                                            "parameters": {"seed": -(2**62)}}), 400)
    assert "parameters.seed" in error["errors"]


def test_a_large_but_valid_seed_and_project_id_work(creator, project,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = creator.post(URL, {"project": project.pk, "template": "blurb",
                                      "variables": {"product": "Kite"},
                                      "parameters": {"seed": 2**32 - 1, "steps": "3"}})
    assert response.status_code == 201, response.json()
    assert response.json()["seed"] == 2**32 - 1 and response.json()["parameters"]["steps"] == 3


@pytest.mark.parametrize("raw", ["[]", '"stop"', "5", "null", "true", '[{"reason": "x"}]'])
def test_cancel_refuses_a_non_object_body(creator, job_id, raw):
    events = AuditEvent.objects.count()
    body = assert_error(raw_post(creator, f"{URL}{job_id}/cancel/", raw), 400, "invalid")
    assert "JSON object" in body["detail"]
    assert GenerationJob.objects.get(pk=job_id).status == "queued"
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("payload,field", [
    ({"reason": ["typo"]}, "reason"), ({"reason": "x" * 501}, "reason"),
    ({"why": "typo"}, "why"),
])
def test_cancel_checks_its_fields(creator, job_id, payload, field):
    body = assert_error(creator.post(f"{URL}{job_id}/cancel/", payload), 400, "invalid")
    assert field in body["errors"]
    assert GenerationJob.objects.get(pk=job_id).status == "queued"


@pytest.mark.parametrize("query", [
    "limit=" + "9" * 30, "offset=" + "9" * 30, "limit=99999999999999999999",
    "offset=9223372036854775807", "limit=9223372036854775807&offset=9223372036854775806",
    "limit=" + "9" * 5000, "limit=1000000",
])
def test_huge_pages_are_clamped_or_refused_never_500(creator, job_id, query):
    response = creator.get(f"{URL}?{query}")
    if response.status_code == 200:
        assert response.json()["count"] == 1
    else:
        assert_error(response, 400, "invalid")


@pytest.mark.parametrize("query,field", [
    ("limit=²", "limit"), ("limit=-1", "limit"), ("limit=0", "limit"), ("offset=--5", "offset"),
    ("offset=1e3", "offset"), ("status=done", "status"), ("project=" + "x" * 101, "project"),
])
def test_bad_page_and_filter_values_are_400s_naming_them(creator, job_id, query, field):
    body = assert_error(creator.get(f"{URL}?{query}"), 400, "invalid")
    assert field in body["errors"]


def test_limit_is_capped(creator, job_id):
    body = creator.get(f"{URL}?limit=100000").json()
    assert body["count"] == 1 and body["next"] is None


def test_generation_filters(creator, job_id, users, other_project):
    assert creator.get(f"{URL}?project=launch&status=queued").json()["count"] == 1
    assert creator.get(f"{URL}?status=running").json()["count"] == 0
    assert creator.get(f"{URL}?project=secret").json()["count"] == 0


def test_asset_filters_refuse_bad_values(creator):
    assert_error(creator.get("/api/v1/assets/?kind=sculpture"), 400, "invalid")
    assert_error(creator.get("/api/v1/assets/?job=nope"), 400, "invalid")
    assert creator.get("/api/v1/assets/?kind=text&project=launch").json()["count"] == 0


# --- job JSON ---------------------------------------------------------------------------

def test_job_json_names_the_model_never_a_server_path(creator, job_id, settings):
    from assay.generation.runtime import run_job

    stored = GenerationJob.objects.get(pk=job_id).model_ref
    assert run_job(job_id, worker="test") == "succeeded"
    stored = GenerationJob.objects.get(pk=job_id).model_ref
    body = creator.get(f"{URL}{job_id}/").json()
    assert set(body["model_ref"]) == {"name", "revision", "license"}
    text = json.dumps(body)
    assert str(settings.ASSAY_MODELS_DIR) not in text
    source = stored.get("source") or ""
    if source.startswith("/"):
        assert source not in text
    assert body["model_ref"]["revision"] == stored.get("revision")
