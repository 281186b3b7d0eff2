"""The prompt library pages, per role: library, template page, forms, try-it, labels."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from assay.studio.models import PromptLabel, PromptTemplate, PromptVersion
from assay.studio.services.prompts import add_version, move_label
from assay.studio.services.protection import protect_label

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _version_post(text: str, **extra: str) -> dict[str, str]:
    return {"text": text, "generator": "dummy-echo", "note": "", "default_parameters": "",
            "var-TOTAL_FORMS": "2", "var-INITIAL_FORMS": "0", "var-MIN_NUM_FORMS": "0",
            "var-MAX_NUM_FORMS": "50",
            "var-0-name": "product", "var-0-description": "Product name",
            "var-0-help": "As on the box", "var-0-example": "Kite", "var-0-required": "on",
            "var-1-name": "", **extra}


def test_members_see_the_library_and_outsiders_get_404(users, project, template):
    url = reverse("portal:prompts", args=[project.slug])
    page = signed_in(users["reviewer"]).get(url)
    assert page.status_code == 200
    assert "Blurb" in page.content.decode()
    assert "New template" not in page.content.decode()  # reviewers read only
    assert "New template" in signed_in(users["creator"]).get(url).content.decode()
    assert signed_in(users["outsider"]).get(url).status_code == 404


def test_the_project_page_and_manage_hub_link_to_the_library(users, project, template):
    client = signed_in(users["owner"])
    url = reverse("portal:prompts", args=[project.slug])
    assert url in client.get(reverse("portal:project", args=[project.slug])).content.decode()
    assert url in client.get(reverse("portal:project_manage",
                                     args=[project.slug])).content.decode()


def test_an_owner_creates_a_template_in_the_portal(users, project):
    response = signed_in(users["owner"]).post(
        reverse("portal:prompt_new", args=[project.slug]),
        {"name": "Launch post", "description": "", **_version_post("About {{ product }}.")})
    assert response.status_code == 302, response.content.decode()[:2000]
    template = PromptTemplate.objects.get(project=project, slug="launch-post")
    version = template.versions.get()
    assert version.variables[0]["help"] == "As on the box"
    assert version.variables[0]["examples"] == ["Kite"]


def test_a_refused_version_shows_the_service_message_next_to_the_text(users, project, template):
    url = reverse("portal:prompt_version_new", args=[project.slug, template.slug])
    response = signed_in(users["creator"]).post(url, _version_post("About {{ product"))
    assert response.status_code == 400
    assert "syntax error" in response.content.decode()
    assert template.versions.count() == 1


def test_the_new_version_form_starts_from_the_latest(users, project, template):
    url = reverse("portal:prompt_version_new", args=[project.slug, template.slug])
    page = signed_in(users["creator"]).get(url).content.decode()
    assert "Write about {{ product }} for {{ audience }}." in page
    assert 'value="audience"' in page
    assert signed_in(users["reviewer"]).get(url).status_code == 403


def test_a_new_version_moves_latest(users, project, template):
    url = reverse("portal:prompt_version_new", args=[project.slug, template.slug])
    response = signed_in(users["creator"]).post(url, _version_post("New {{ product }}."))
    assert response.status_code == 302
    assert PromptLabel.objects.get(template=template, name="latest").version.number == 2


def test_try_it_renders_the_unsaved_text_with_examples(users, project, template):
    url = reverse("portal:prompt_try", args=[project.slug])
    before = PromptVersion.objects.count()
    page = signed_in(users["creator"]).post(url, _version_post("Hello {{ product }}!"))
    assert page.status_code == 200
    assert "Hello Kite!" in page.content.decode()
    bad = signed_in(users["creator"]).post(url, _version_post("Hello {{ product"))
    assert "syntax error on line 1" in bad.content.decode()
    assert PromptVersion.objects.count() == before
    assert signed_in(users["reviewer"]).post(url, _version_post("x")).status_code == 403


def test_compare_two_versions_with_the_word_diff(users, project, template):
    v2 = add_version(template, users["owner"], text="Write warmly about {{ product }}.",
                     variables=["product"], generator_id="dummy-echo")
    v1 = template.versions.get(number=1)
    url = reverse("portal:prompt", args=[project.slug, template.slug])
    page = signed_in(users["reviewer"]).get(url, {"from": v1.pk, "to": v2.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Write<ins> warmly</ins> about" in html
    assert "<del>}} for {{ audience </del>" in html
    assert signed_in(users["reviewer"]).get(url, {"from": 999999, "to": v2.pk}
                                            ).status_code == 404


def test_labels_move_and_roll_back_in_the_portal(users, project, template):
    v2 = add_version(template, users["owner"], text="Two {{ product }}.",
                     variables=["product"], generator_id="dummy-echo")
    v1 = template.versions.get(number=1)
    move_label(template, users["owner"], name="staging", version=v2)
    client = signed_in(users["creator"])
    url = reverse("portal:prompt_label_move", args=[project.slug, template.slug])
    page = reverse("portal:prompt", args=[project.slug, template.slug])
    assert "Roll staging back here" in client.get(page).content.decode()
    response = client.post(url, {"name": "staging", "version": v1.pk}, follow=True)
    assert "The staging label now points at version 1." in response.content.decode()
    assert PromptLabel.objects.get(template=template, name="staging").version == v1
    # latest moves by itself: refused in words
    response = client.post(url, {"name": "latest", "version": v1.pk}, follow=True)
    assert "always follows the newest version" in response.content.decode()
    # reviewers may not move labels
    assert signed_in(users["reviewer"]).post(
        url, {"name": "staging", "version": v2.pk}).status_code == 403


def test_a_protected_label_shows_the_review_and_refuses_a_direct_move(users, project,
                                                                     template):
    # given a production label that the owner then protects
    v1 = template.versions.get(number=1)
    v2 = add_version(template, users["owner"], text="Two {{ product }}.",
                     variables=["product"], generator_id="dummy-echo")
    move_label(template, users["owner"], name="production", version=v1)
    protect_label(project, users["owner"], name="production")
    client = signed_in(users["owner"])
    page = client.get(reverse("portal:prompt", args=[project.slug, template.slug]))
    html = page.content.decode()
    # then the page says so, offers no direct move, and a forced move is refused in words
    assert "Protected: changes go through a promotion review" in html
    assert "Move production here" not in html
    response = client.post(reverse("portal:prompt_label_move",
                                   args=[project.slug, template.slug]),
                           {"name": "production", "version": v2.pk}, follow=True)
    assert "is protected" in response.content.decode()
    api = APIClient()
    api.force_login(users["owner"])
    refused = api.post(f"/api/v1/templates/{template.pk}/labels/production/",
                       {"version": v2.pk}, format="json")
    assert refused.status_code == 403 and "is protected" in refused.json()["detail"]
    assert PromptLabel.objects.get(template=template, name="production").version == v1
