"""Every REST endpoint and portal page, for every kind of user: the permission matrix.

One row per route (the test fails when a route has no row), with the answer each kind of
user gets. Reads are checked for status; list endpoints also for what they leak: an
outsider sees none of the project's rows. Writes are checked with an empty body, so the
answer is the permission decision (401/403/404) or, for those allowed, a 400 that says
what to send: nothing is created.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from assay.accounts.services import create_token
from governance.review.models import Review
from governance.review.styles import create_style
from tests.conftest import generate_checked
from tests.publishing.helpers import endpoint_with_log
from tests.review.promotion_helpers import matrix_promotion

ROLES = ("anon", "outsider", "creator", "reviewer", "owner", "auditor", "admin")

ANON, MEMBERS, ALL = {"anon"}, {"creator", "reviewer", "owner"}, set(ROLES) - {"anon"}


def walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """(route, name) of every URL pattern, below includes too."""
    rows: list[tuple[str, str]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            rows += walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name:
            rows.append((prefix + str(p.pattern), p.name))
    return rows


@pytest.fixture
def world(users, project, template, other_project, django_capture_on_commit_callbacks):
    asset = generate_checked(users["creator"], project, django_capture_on_commit_callbacks)
    job = asset.job
    review = Review.objects.get(asset=asset)
    token, _secret = create_token(users["creator"], name="ci", scope="read", days=7)
    webhook, delivery = endpoint_with_log(project, users["owner"])
    style = create_style(users["owner"], project, {"name": "Matrix"})
    promotion = matrix_promotion(users, project, template, django_capture_on_commit_callbacks)
    return {"webhook": webhook.pk, "delivery": str(delivery.pk), **promotion,
            "style": style.pk,
            "job": str(job.pk), "asset": str(asset.pk), "review": review.pk,
            "slug": project.slug, "token": token.pk,
            "template": template.pk, "template_slug": template.slug,
            "version": template.versions.get(number=1).pk}


def client_for(role: str, users: dict[str, Any]) -> APIClient:
    client = APIClient()
    if role != "anon":
        client.force_login(users[role])
    return client


# route name → (GET answers, POST answers), one code per role in ROLES order:
#               anon outsider creator reviewer owner auditor admin
MATRIX: dict[str, tuple[str, str]] = {
    # health and the schema: public
    "healthz": ("200 200 200 200 200 200 200", "200 200 200 200 200 200 200"),
    "readyz": ("200 200 200 200 200 200 200", "200 200 200 200 200 200 200"),
    # Prometheus: open while ASSAY_METRICS_TOKEN is unset (tests/core/test_metrics.py)
    "metrics": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "schema": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "schema-swagger": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "schema-redoc": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    # platform-wide
    "generators": ("401 200 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "plugins": ("401 403 403 403 403 403 200", "401 405 405 405 405 405 405"),
    "usage": ("401 403 403 403 403 200 200", "401 405 405 405 405 405 405"),
    "provenance-verify": ("401 405 405 405 405 405 405", "401 415 415 415 415 415 415"),
    "audit-events": ("401 403 403 403 403 200 200", "401 403 403 403 403 405 405"),
    "audit-export": ("401 403 403 403 403 200 200", "401 403 403 403 403 405 405"),
    "audit-verify": ("401 403 403 403 403 200 200", "401 403 403 403 403 405 405"),
    "audit-actions": ("401 403 403 403 403 200 200", "401 403 403 403 403 405 405"),
    # a project's data: members (and auditors, admins) read; outsiders get 404
    "project-list": ("401 200 200 200 200 200 200", "401 403 403 403 403 403 400"),
    "project-detail": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "project-assets": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    # the list, and (the prompt library's create, same path) an empty body: a 400
    "project-templates": ("401 404 200 200 200 200 200", "401 404 400 400 400 400 400"),
    "brand-kit": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "review-policy": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "quotas": ("401 404 200 200 200 200 200", "401 404 400 400 400 400 400"),
    "generation-list": ("401 200 200 200 200 200 200", "401 400 400 400 400 400 400"),
    "generation-detail": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    # cancel: the creator's own job (already running? no: finished → 409), reviewers 403
    "generation-cancel": ("401 405 405 405 405 405 405", "401 404 409 403 409 403 409"),
    "asset-list": ("401 200 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "asset-detail": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "asset-content": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "asset-checks": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    # not signed yet: no sidecar for anyone
    "asset-sidecar": ("401 404 404 404 404 404 404", "401 405 405 405 405 405 405"),
    # already in review (auto-submit) → 409; reviewers and auditors may not submit → 403
    "asset-submit-review": ("401 405 405 405 405 405 405", "401 404 409 403 409 403 409"),
    "asset-revise": ("401 405 405 405 405 405 405", "401 404 400 400 400 400 400"),
    "review-list": ("401 200 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "review-detail": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "review-comments": ("401 405 405 405 405 405 405", "401 404 400 400 400 400 400"),
    "review-decisions": ("401 405 405 405 405 405 405", "401 404 400 400 400 400 400"),
    # tokens: your own (the creator's token here); admins see everyone's
    "token-list": ("401 200 200 200 200 200 200", "401 400 400 400 400 400 400"),
    "token-detail": ("401 404 200 404 404 404 200", "401 405 405 405 405 405 405"),
    # the creator revokes it first, so the admin then finds it already revoked
    "token-revoke": ("401 405 405 405 405 405 405", "401 404 200 404 404 404 409"),
    # portal pages (anonymous visitors are sent to sign in)
    "login": ("200 302 302 302 302 302 302", "200 302 302 302 302 302 302"),
    "logout": ("405 405 405 405 405 405 405", "302 302 302 302 302 302 302"),
    "home": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "favicon": ("301 301 301 301 301 301 301", "405 405 405 405 405 405 405"),
    "project": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "project_manage": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "generate": ("302 404 200 403 200 403 200", "302 404 400 403 400 403 400"),
    "generate_fields": ("302 404 200 403 200 403 200", "302 405 405 405 405 405 405"),
    "job": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "job_status": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "job_cancel": ("302 405 405 405 405 405 405", "302 404 302 403 302 403 302"),
    "asset_content": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    # the world's asset is a text: no poster for anyone (a video's is served to members)
    "asset_poster": ("302 404 404 404 404 404 404", "302 405 405 405 405 405 405"),
    # an empty POST carries no form: the page is shown again (a refused form is a 400)
    "tokens": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200"),
    "token_revoke": ("302 405 405 405 405 405 405", "302 404 302 404 404 404 302"),
    "reviews": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "review": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "review_decide": ("302 405 405 405 405 405 405", "302 404 400 400 400 400 400"),
    "review_comment": ("302 405 405 405 405 405 405", "302 404 400 400 400 403 400"),
    # the asset library and page (REST twins: asset-list, asset-versions, asset-credentials)
    "asset-versions": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "asset-credentials": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "assets": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "asset": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "asset_download": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    # not signed yet: no Content Credentials file for anyone
    "asset_sidecar": ("302 404 404 404 404 404 404", "302 405 405 405 405 405 405"),
    # an empty text is refused (400) for those who may edit; reviewers, auditors 403
    "asset_revise": ("302 405 405 405 405 405 405", "302 404 400 403 400 403 400"),
    # the inbox and my submissions: everyone signed in has their own (empty or not)
    "inbox-list": ("401 200 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "inbox-read": ("401 405 405 405 405 405 405", "401 200 200 200 200 200 200"),
    "my_submissions": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "inbox": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "inbox_read": ("302 405 405 405 405 405 405", "302 302 302 302 302 302 302"),
    # verify any file (REST twin: provenance-verify); a POST without a file is a 400
    "verify": ("302 200 200 200 200 200 200", "302 400 400 400 400 400 400"),
    # the auditors' screens (REST twins: audit-events, audit-export, audit-verify, usage);
    # verify now redirects back to the audit browser
    "audit": ("302 403 403 403 403 200 200", "302 405 405 405 405 405 405"),
    "audit_verify": ("302 405 405 405 405 405 405", "302 403 403 403 403 302 302"),
    "usage_dashboard": ("302 403 403 403 403 200 200", "302 405 405 405 405 405 405"),
    # the admins' screens and their REST twins (plugins: "plugins", tokens: "token-list");
    # revoking the creator's token (already revoked above) redirects back with a message
    "health": ("401 403 403 403 403 403 200", "401 405 405 405 405 405 405"),
    "provenance-credentials": ("401 403 403 403 403 403 200",
                               "401 405 405 405 405 405 405"),
    "admin_index": ("302 403 403 403 403 403 200", "405 405 405 405 405 405 405"),
    "admin_plugins": ("302 403 403 403 403 403 200", "405 405 405 405 405 405 405"),
    "admin_signing": ("302 403 403 403 403 403 200", "405 405 405 405 405 405 405"),
    "admin_tokens": ("302 403 403 403 403 403 200", "405 405 405 405 405 405 405"),
    "admin_token_revoke": ("405 405 405 405 405 405 405", "302 403 403 403 403 403 302"),
    "admin_health": ("302 403 403 403 403 403 200", "405 405 405 405 405 405 405"),
    # owners' screens: members read; only owners (and admins) save, others get a 403 in
    # words; an empty form is a 400 (the models page saves an empty list: 200)
    "facts-export": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    # multipart only: a JSON body is a 415 for those who may import
    "facts-import": ("401 405 405 405 405 405 405", "401 404 403 403 415 403 415"),
    "project-models": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "brand_kit": ("302 404 200 200 200 200 200", "302 404 403 403 400 403 400"),
    "brand_kit_check": ("302 405 405 405 405 405 405", "302 404 400 400 400 400 400"),
    "facts": ("302 404 200 200 200 200 200", "302 404 403 403 400 403 400"),
    "review_policy": ("302 404 200 200 200 200 200", "302 404 403 403 400 403 400"),
    "project_quotas": ("302 404 200 200 200 200 200", "302 404 403 403 400 403 400"),
    "project_models": ("302 404 200 200 200 200 200", "302 404 403 403 200 403 200"),
    # teams and projects: admins create (auditors list teams); owners manage members
    "team-list": ("401 403 403 403 403 200 200", "401 403 403 403 403 403 400"),
    "project-members": ("401 404 200 200 200 200 200", "401 404 403 403 400 403 400"),
    "project-member": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "project-invitations": ("401 404 403 403 200 403 200", "401 404 403 403 400 403 400"),
    "invitation-accept": ("401 405 405 405 405 405 405", "401 400 400 400 400 400 400"),
    "project_members": ("302 404 200 200 200 200 200", "302 404 403 403 400 403 400"),
    "project_member": ("302 405 405 405 405 405 405", "302 404 403 403 400 403 400"),
    "project_edit": ("302 404 403 403 200 403 200", "302 404 403 403 400 403 400"),
    "teams": ("302 403 403 403 403 403 200", "302 403 403 403 403 403 400"),
    # an unknown invitation link: the same 404 page for everyone
    "invitation": ("404 404 404 404 404 404 404", "404 404 404 404 404 404 404"),
    # single sign-on is off by default: 404 for everyone (wrong methods 405 first); with
    # it on, tests/portal/test_sso.py checks every role (302 / 400 / 405 / 302)
    "oidc_authenticate": ("404 404 404 404 404 404 404", "405 405 405 405 405 405 405"),
    "oidc_callback": ("404 404 404 404 404 404 404", "405 405 405 405 405 405 405"),
    "oidc_logout": ("405 405 405 405 405 405 405", "404 404 404 404 404 404 404"),
    # the prompt library: members read; creators and owners (and admins) write. An empty
    # body is a 400 that says what to send; try-it renders nothing (the latest's text
    # with no values: 400 over REST; an empty portal form renders an empty prompt: 200)
    "template-create": ("401 404 200 200 200 200 200", "401 404 400 400 400 400 400"),
    "template-versions": ("401 404 200 200 200 200 200", "401 404 400 400 400 400 400"),
    "template-version": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    # no ?from=&to=: a 400 naming both
    "template-diff": ("401 404 400 400 400 400 400", "401 405 405 405 405 405 405"),
    "template-label": ("401 405 405 405 405 405 405", "401 404 400 400 400 400 400"),
    "template-render": ("401 405 405 405 405 405 405", "401 404 400 403 400 403 400"),
    "prompts": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "prompt": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "prompt_new": ("302 404 200 403 200 403 200", "302 404 400 403 400 403 400"),
    "prompt_version_new": ("302 404 200 403 200 403 200", "302 404 400 403 400 403 400"),
    "prompt_try": ("302 405 405 405 405 405 405", "302 404 200 403 200 403 200"),
    # an empty form names no label: back to the page with the refusal in words
    "prompt_label_move": ("302 405 405 405 405 405 405", "302 404 302 403 302 403 302"),
    # webhooks: the project's owners (and admins) only; other members and auditors 403.
    # An empty POST to the list is a 400 naming the fields; ping and redeliver need none.
    "webhook-list": ("401 404 403 403 200 403 200", "401 404 403 403 400 403 400"),
    "webhook-detail": ("401 404 403 403 200 403 200", "401 405 405 405 405 405 405"),
    "webhook-ping": ("401 405 405 405 405 405 405", "401 404 403 403 202 403 202"),
    "webhook-deliveries": ("401 404 403 403 200 403 200", "401 405 405 405 405 405 405"),
    "delivery-detail": ("401 404 403 403 200 403 200", "401 405 405 405 405 405 405"),
    "delivery-redeliver": ("401 405 405 405 405 405 405", "401 404 403 403 202 403 202"),
    # portal: an empty POST carries no form, so the page is shown again
    "webhooks": ("302 404 403 403 200 403 200", "302 404 403 403 200 403 200"),
    "webhook": ("302 404 403 403 200 403 200", "302 404 403 403 200 403 200"),
    "webhook_ping": ("302 405 405 405 405 405 405", "302 404 403 403 302 403 302"),
    "delivery_redeliver": ("302 405 405 405 405 405 405", "302 404 403 403 302 403 302"),
    # governed promotion (REST): members read; creators and owners request; reviewers and
    # owners decide (an empty body: 400); owners protect labels
    "template-promotions": ("401 404 200 200 200 200 200", "401 404 400 403 400 403 400"),
    "template-promotion": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "template-promotion-approve": ("401 405 405 405 405 405 405",
                                   "401 404 403 400 400 403 400"),
    "template-promotion-reject": ("401 405 405 405 405 405 405",
                                  "401 404 403 400 400 403 400"),
    "template-golden-set": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "protected-labels": ("401 404 200 200 200 200 200", "401 404 403 403 400 403 400"),
    "protected-label": ("401 405 405 405 405 405 405", "401 405 405 405 405 405 405"),
    # governed promotion (portal): the same rules; a refused form is a 400 or 403 page
    "promotions": ("302 404 200 200 200 200 200", "302 404 400 403 400 403 400"),
    "promotion": ("302 404 200 200 200 200 200", "302 405 405 405 405 405 405"),
    "promotion_decide": ("302 405 405 405 405 405 405", "302 404 403 400 400 403 400"),
    "protected_labels": ("302 405 405 405 405 405 405", "302 404 403 403 400 403 400"),
    "golden_set": ("302 405 405 405 405 405 405", "302 404 400 403 400 403 400"),
    # brand styles: members read (creators pick one); owners (and admins) write, an empty
    # body or form is a 400; removing needs its box ticked (an empty form: 400)
    "brand-styles": ("401 404 200 200 200 200 200", "401 404 403 403 400 403 400"),
    "brand-style": ("401 404 200 200 200 200 200", "401 405 405 405 405 405 405"),
    "brand_styles": ("302 404 200 200 200 200 200", "302 404 403 403 400 403 400"),
    "brand_style": ("302 404 200 200 200 200 200", "302 404 403 403 400 403 400"),
    "brand_style_delete": ("302 405 405 405 405 405 405", "302 404 403 403 400 403 400"),
}
#: List endpoints: what an outsider gets must hold none of the project's rows.
LISTS = ("project-list", "generation-list", "asset-list", "review-list")


def routes() -> dict[str, str]:
    """Every named route outside the Django admin, by name."""
    return {name: route for route, name in walk(get_resolver().url_patterns)
            if not route.startswith("admin/")}


def test_every_route_has_a_row_in_the_matrix():
    missing = sorted(set(routes()) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(routes()))
    assert not missing, f"routes with no permission row: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def url_of(name: str, route: str, world: dict[str, Any]) -> str:
    """The route with this world's ids filled in."""
    kind = name.split("-")[0]
    pk = {"generation": world["job"], "asset": world["asset"], "review": world["review"],
          "token": world["token"]}.get(kind, "")
    values = {"slug": world["slug"], "asset_id": world["asset"], "job_id": world["job"],
              "review_id": world["review"], "token_id": world["token"], "pk": pk,
              "member": "cara", "key": "no-such-invite",  # cara: the creator's username
              "template_id": world.get("template"), "version_id": world.get("version"),
              "template_slug": world.get("template_slug"), "name": "staging",
              "webhook_id": world.get("webhook"), "delivery_id": world.get("delivery"),
              "promotion_id": world.get("promotion"),
              "protection_id": world.get("protection"), "style_id": world.get("style")}
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
    return "/" + path.replace("^", "").replace("$", "")


@pytest.mark.django_db
def test_the_permission_matrix(world, users):
    table = routes()
    wrong = []
    for name, (gets, posts) in MATRIX.items():
        url = url_of(name, table[name], world)
        for method, codes in (("get", gets), ("post", posts)):
            for role, expected in zip(ROLES, codes.split(), strict=True):
                client = client_for(role, users)
                response = (client.get(url) if method == "get"
                            else client.post(url, data={}, format="json"))
                if response.status_code != int(expected):
                    wrong.append(f"{method.upper()} {url} as {role}: "
                                 f"{response.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_lists_show_an_outsider_none_of_the_projects_rows(world, users):
    table = routes()
    members = client_for("creator", users)
    outsider = client_for("outsider", users)
    for name in LISTS:
        url = url_of(name, table[name], world)
        seen = json.dumps(members.get(url).json())
        assert world["slug"] in seen or world["asset"] in seen or world["job"] in seen, name
        hidden = json.dumps(outsider.get(url).json())
        for secret in (world["slug"], world["asset"], world["job"]):
            assert secret not in hidden, f"{name} shows an outsider {secret}"
