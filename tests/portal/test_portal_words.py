"""Small wording rules of the portal: "just now", not "0 minutes ago"; the favicon."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from assay.portal.templatetags.portal_words import ago
from tests.conftest import generate_checked


def test_ago_says_just_now_under_a_minute():
    now = timezone.now()
    assert ago(now, now) == "just now"
    assert ago(now - timedelta(seconds=59), now) == "just now"
    assert ago(now - timedelta(minutes=3, seconds=5), now) == "3\xa0minutes ago"
    assert ago(now - timedelta(days=2, hours=4), now) == "2\xa0days, 4\xa0hours ago"
    assert ago(None) == "" and ago("yesterday") == ""


@pytest.mark.django_db
def test_pages_say_just_now_and_link_a_favicon_that_exists(client, users, project, template,
                                                             django_capture_on_commit_callbacks):
    generate_checked(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["creator"])
    html = client.get(f"/projects/{project.slug}/").content.decode()
    assert "just now" in html and "0\xa0minutes ago" not in html and "0 minutes" not in html
    assert '<link rel="icon" href="/static/portal/favicon.svg" type="image/svg+xml">' in html
    icon = finders.find("portal/favicon.svg")
    assert icon and open(icon, "rb").read().startswith(b"<svg")


def test_favicon_ico_points_at_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("portal/favicon.svg")
