"""The promotions pages: query budgets, words not codes, and the forms through the
same services as REST (protect, golden set, request, approve, reject)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assay.studio.models import PromptLabel
from governance.review.promotion_models import Promotion
from tests.portal.test_page_budgets import Page, _get, raw_names, visible_text
from tests.review.promotion_helpers import protected_template, requested, run_golden_set

pytestmark = pytest.mark.django_db

#: list: session, user, project, two capability checks, templates with golden sets,
#: versions, protections, promotions, header; detail: the promotion, its runs, the jobs'
#: assets and their check results, header; a reviewer also gets the capability check and
#: the approve refusal's reads (role, runs finished, where the label is now).
PAGES = [
    Page("portal:promotions", 10, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:promotion", 14, user="owner",
         args=lambda w: [w["project"].slug, w["promotion"].pk]),
    Page("portal:promotion", 10, user="creator",
         args=lambda w: [w["project"].slug, w["promotion"].pk]),
]


@pytest.fixture
def world(users, project, template, django_capture_on_commit_callbacks):
    v2 = protected_template(users, project, template)
    promotion = requested(users, template, v2, django_capture_on_commit_callbacks)
    return {"users": users, "project": project, "template": template, "v2": v2,
            "promotion": promotion}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.id}-{p.user}")
def test_query_budget_and_words(world, page):
    response, count = _get(world, page)
    assert response.status_code == 200, response.content[:500]
    assert count <= page.budget, f"{page.id}: {count} queries, budget {page.budget}"
    text = visible_text(response.content.decode())
    shown = sorted({m.group(0) for pattern in raw_names() for m in pattern.finditer(text)})
    assert not shown, f"{page.id} shows {shown} outside a Details fold"


def test_the_review_page_shows_diff_and_both_sides(world, users):
    client = Client()
    client.force_login(users["owner"])
    html = client.get(reverse("portal:promotion", args=[world["project"].slug,
                                                      world["promotion"].pk])).content.decode()
    text = visible_text(html)
    assert "<ins>" in html and "<del>" in html
    assert "Proposed version" in text and "Current version" in text
    assert "Sample 1: product “Kite”, audience “parents”" in text
    assert "Checks:" in text and "Approve and move “production”" in text


def test_forms_protect_save_request_and_decide(users, project, template,
                                              django_capture_on_commit_callbacks):
    owner, creator = Client(), Client()
    owner.force_login(users["owner"])
    creator.force_login(users["creator"])
    slug = project.slug
    # creators cannot protect: the refusal is shown in words
    refused = creator.post(reverse("portal:protected_labels", args=[slug]),
                           {"name": "production"})
    assert refused.status_code == 403 and "owner" in refused.content.decode()
    assert owner.post(reverse("portal:protected_labels", args=[slug]),
                      {"name": "production", "template": ""}).status_code == 302
    saved = creator.post(reverse("portal:golden_set", args=[slug]), {
        "template": template.pk, "samples": "product = Kite; audience = parents\n\n"
                                            "product = Drone"})
    assert saved.status_code == 302
    assert template.golden_set.samples == [{"product": "Kite", "audience": "parents"},
                                           {"product": "Drone"}]
    v1 = template.versions.get(number=1)
    with django_capture_on_commit_callbacks(execute=False):
        asked = creator.post(reverse("portal:promotions", args=[slug]),
                             {"version": v1.pk, "label": "production"})
    assert asked.status_code == 302, asked.content.decode()[:2000]
    promotion = Promotion.objects.get()
    page = creator.get(asked["Location"]).content.decode()
    assert "Still generating" in page
    # the owner wrote v1: refused in words; the reviewer approves once the run is done
    run_golden_set(promotion, django_capture_on_commit_callbacks)
    decide = reverse("portal:promotion_decide", args=[slug, promotion.pk])
    mine = owner.post(decide, {"decision": "approve"})
    assert mine.status_code == 403
    assert "so someone else must approve" in mine.content.decode()
    reviewer = Client()
    reviewer.force_login(users["reviewer"])
    done = reviewer.post(decide, {"decision": "approve"}, follow=True)
    assert "now points at version 1" in done.content.decode()
    assert PromptLabel.objects.get(template=template, name="production").version == v1
