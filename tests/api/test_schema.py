"""The OpenAPI schema: valid, warning-free, complete (every /api/v1/ route and method), and
browsable with Swagger UI and Redoc served from this server alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PREFIX = "api/v1/"
#: The documentation views themselves are not API endpoints.
DOC_ROUTES = {"/api/v1/schema/", "/api/v1/schema/swagger/", "/api/v1/schema/redoc/"}
IGNORED_METHODS = {"options", "head"}


def schema() -> dict:
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200, response.content[:300]
    return yaml.safe_load(response.content)


def _route(pattern) -> str:
    """A URL pattern as text, with each parameter written as ``{}``."""
    text = str(pattern.pattern)
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", text)  # routers' regexes
    text = re.sub(r"<(?:\w+:)?\w+>", "{}", text)  # path("x/<str:id>/")
    return text.lstrip("^").rstrip("$").replace("\\.", ".")


def api_routes() -> dict[str, set[str]]:
    """Every route under /api/v1/ with the HTTP methods its view answers."""
    found: dict[str, set[str]] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + _route(pattern))
            elif isinstance(pattern, URLPattern):
                route = "/" + prefix + _route(pattern)
                if not route.startswith("/" + PREFIX):
                    continue
                view = pattern.callback
                actions = getattr(view, "actions", None)
                if actions:  # a viewset: the router says which methods map to actions
                    methods = set(actions)
                else:
                    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
                    names = getattr(cls, "http_method_names", ["get"]) if cls else ["get"]
                    methods = {m for m in names if cls is None or hasattr(cls, m)}
                found.setdefault(route, set()).update(methods - IGNORED_METHODS)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_route_and_method_is_in_the_schema():
    paths = {re.sub(r"\{\w+\}", "{}", path): set(ops) for path, ops in schema()["paths"].items()}
    routes = api_routes()
    assert len(routes) > 20
    missing = []
    for route, methods in sorted(routes.items()):
        if route in DOC_ROUTES:
            continue
        if route not in paths:
            missing.append(f"{route} (whole route)")
            continue
        missing += [f"{method.upper()} {route}" for method in sorted(methods - paths[route])]
    assert not missing, "routes missing from the OpenAPI schema:\n" + "\n".join(missing)


def test_the_route_walker_sees_every_kind_of_route():
    """The check above is only as good as this walk: routers, path() and regex routes."""
    routes = api_routes()
    assert routes["/api/v1/generations/"] >= {"get", "post"}
    assert "post" in routes["/api/v1/generations/{}/cancel/"]
    assert "get" in routes["/api/v1/projects/{}/brand-kit/"]
    assert "/api/v1/schema/" in routes


def test_schema_validates_without_warnings(tmp_path: Path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["openapi"].startswith("3.")


def test_every_operation_documents_the_shared_error():
    doc = schema()
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code", "errors"}
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("400", "401", "403", "404", "429"):
                assert responses[code]["content"]["application/json"]["schema"] == ref, \
                    (method, path, code)
            assert "Retry-After" in responses["429"]["headers"]
            if method in ("post", "put", "patch"):
                assert {"409", "413", "415"} <= set(responses), (method, path)
            assert any(c.startswith("2") for c in responses), (method, path)
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_submit_is_documented_with_its_input_and_output():
    doc = schema()
    post = doc["paths"]["/api/v1/generations/"]["post"]
    request = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = doc["components"]["schemas"][request.rsplit("/", 1)[1]]["properties"]
    assert {"project", "template", "label", "prompt_version", "version", "variables",
            "generator", "parameters", "model", "parent_asset", "revision_of",
            "style"} == set(fields)
    assert "201" in post["responses"]
    job = doc["components"]["schemas"]["Job"]["properties"]
    assert "model_ref" in job
    listing = doc["paths"]["/api/v1/generations/"]["get"]
    assert {"project", "status", "limit", "offset"} <= {p["name"] for p in listing["parameters"]}


@pytest.mark.parametrize("page,assets", [
    ("/api/v1/schema/swagger/", ["swagger-ui-dist/swagger-ui-bundle.js",
                                 "swagger-ui-dist/swagger-ui.css"]),
    ("/api/v1/schema/redoc/", ["redoc/bundles/redoc.standalone.js"]),
])
def test_docs_pages_are_served_locally_without_inline_script(page, assets):
    client = Client()
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html and "https://" not in html  # no CDN, no web fonts
    for tag in re.findall(r"<script[^>]*>.*?</script>", html, flags=re.S):
        assert re.search(r"\ssrc=", tag) and re.search(r">\s*</script>", tag), tag
    assert "<style" not in html
    for asset in assets:
        assert f"/static/drf_spectacular_sidecar/{asset}" in html
        served = client.get(f"/static/drf_spectacular_sidecar/{asset}")
        assert served.status_code == 200, asset
    for src in re.findall(r'src="([^"]+)"', html):
        assert client.get(src).status_code == 200, src
    assert "'unsafe-inline'" not in response["Content-Security-Policy"].split("script-src")[1] \
        .split(";")[0]


def test_swagger_start_script_is_a_separate_request():
    response = Client().get("/api/v1/schema/swagger/?script=")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    assert "/api/v1/schema/" in response.content.decode()
