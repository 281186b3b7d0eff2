"""Every REST endpoint and portal page, for every kind of user: the permission matrix.

One row per route (the test fails when a route has no row), with the answer each kind of
user gets. Reads are checked for status; list endpoints also for what they leak: an
outsider sees none of the project's rows. Writes are checked with an empty body, so the
answer is the permission decision (401/403/404) or, for those allowed, a 400 that says
what to send: nothing is created.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from assay.accounts.services import create_token
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from governance.review.checks import run_checks
from governance.review.models import Review

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
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=project, template="blurb",
                                variables={"product": "Kite"})
        assert run_job(str(job.pk), worker="w") == "succeeded"
        asset = Asset.objects.get(job=job)
        run_checks(str(asset.pk))
    review = Review.objects.get(asset=asset)
    token, _secret = create_token(users["creator"], name="ci", scope="read", days=7)
    return {"job": str(job.pk), "asset": str(asset.pk), "review": review.pk,
            "slug": project.slug, "token": token.pk}


def client_for(role: str, users: dict[str, Any]) -> APIClient:
    client = APIClient()
    if role != "anon":
        client.force_login(users[role])
    return client
