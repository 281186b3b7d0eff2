"""The brand styles screen (owners add, change and remove; members read) and the generate
form's "Style" select, shown for image prompts only and applied like REST applies it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assay.audit.models import AuditEvent
from assay.generation.models import GenerationJob
from governance.review import styles
from governance.review.style_models import BrandStyle
from tests.review.style_helpers import approved_image, image_asset, image_template

pytestmark = pytest.mark.django_db

FORM = {"name": "Autumn", "description": "Campaign look", "prompt_additions": "watercolour",
        "negative_prompt": "text, logos", "width": "128", "height": "96", "steps": "12",
        "reference": "", "strength": ""}


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _list_url(project):
    return reverse("portal:brand_styles", args=[project.slug])


@pytest.fixture
def shot(project, users):
    return image_template(project, users["owner"])


def test_an_owner_adds_a_style_with_an_approved_reference(users, project, shot,
                                                          django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reference = approved_image(project, users["creator"], capture)
    pending = image_asset(project, users["creator"], capture, color=(0, 0, 200))
    owner = client(users["owner"])
    page = owner.get(_list_url(project)).content.decode()
    assert "No styles yet" in page
    assert f'value="{reference.pk}"' in page and f'value="{pending.pk}"' not in page
    response = owner.post(_list_url(project), {**FORM, "reference": str(reference.pk),
                                               "strength": "0.4"})
    assert response.status_code == 302
    style = BrandStyle.objects.get()
    assert (style.width, style.steps, style.reference, style.strength) == (128, 12, reference,
                                                                           0.4)
    page = owner.get(_list_url(project)).content.decode()
    assert "Added the style “Autumn”" in page and "128 × 96 pixels, 12 steps" in page
    assert AuditEvent.objects.filter(action="review.style.created").count() == 1


def test_bad_values_are_field_errors_and_store_nothing(users, project):
    response = client(users["owner"]).post(_list_url(project), {**FORM, "width": "100"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Must be a multiple of 8." in page and 'data-field="width"' in page
    assert not BrandStyle.objects.exists()


def test_an_owner_changes_then_removes_a_style(users, project):
    style = styles.create_style(users["owner"], project, {"name": "Autumn", "steps": 12})
    owner = client(users["owner"])
    url = reverse("portal:brand_style", args=[project.slug, style.pk])
    assert 'value="12"' in owner.get(url).content.decode()
    response = owner.post(url, {**FORM, "name": "Autumn bold", "steps": "30", "width": ""})
    assert response.status_code == 302
    style.refresh_from_db()
    assert (style.name, style.steps, style.width) == ("Autumn bold", 30, None)
    delete = reverse("portal:brand_style_delete", args=[project.slug, style.pk])
    refused = owner.post(delete, {})
    assert refused.status_code == 400 and "Tick the box" in refused.content.decode()
    assert owner.post(delete, {"confirm": "on"}).status_code == 302
    assert not BrandStyle.objects.exists()
    assert AuditEvent.objects.filter(action="review.style.deleted").exists()


def test_members_read_but_may_not_change_outsiders_see_nothing(users, project):
    style = styles.create_style(users["owner"], project, {"name": "Autumn"})
    creator = client(users["creator"])
    page = creator.get(_list_url(project)).content.decode()
    assert "Autumn" in page and "Add a style" not in page and "Change or remove" not in page
    assert creator.post(_list_url(project), FORM).status_code == 403
    detail = reverse("portal:brand_style", args=[project.slug, style.pk])
    assert creator.post(detail, FORM).status_code == 403
    outsider = client(users["outsider"])
    assert outsider.get(_list_url(project)).status_code == 404
    assert outsider.get(detail).status_code == 404
    assert BrandStyle.objects.get().name == "Autumn"


def test_the_manage_hub_and_the_brand_kit_link_to_the_styles(users, project):
    owner = client(users["owner"])
    for name in ("portal:project_manage", "portal:brand_kit"):
        page = owner.get(reverse(name, args=[project.slug])).content.decode()
        assert f'href="{_list_url(project)}"' in page


# --- the generate form ----------------------------------------------------------------------
def _generate(c, project, version):
    return c.get(reverse("portal:generate", args=[project.slug]),
                 {"version": version.pk}).content.decode()


def test_the_style_select_is_for_image_prompts_only(users, project, template, shot):
    styles.create_style(users["owner"], project, {"name": "Autumn", "width": 128,
                                                  "height": 96, "steps": 12})
    creator = client(users["creator"])
    image_page = _generate(creator, project, shot.latest_version())
    assert 'name="style"' in image_page
    assert "Autumn (128 × 96 pixels, 12 steps)" in image_page and "No style" in image_page
    text_page = _generate(creator, project, template.latest_version())
    assert 'name="style"' not in text_page


def test_no_select_without_styles(users, project, shot):
    assert 'name="style"' not in _generate(client(users["creator"]), project,
                                           shot.latest_version())


def test_generating_with_a_style_from_the_form(users, project, shot,
                                               django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reference = approved_image(project, users["creator"], capture)
    styles.create_style(users["owner"], project, {
        "name": "Autumn", "prompt_additions": "watercolour", "negative_prompt": "text",
        "width": 128, "height": 96, "steps": 12, "reference": str(reference.pk)})
    version = shot.latest_version()
    # the form as the browser sends it: every setting as shown, the steps changed
    form = {"prompt_version": version.pk, "generator": "image-diffusers",
            "var__product": "Kite", "style": "Autumn", "param__width": "64",
            "param__height": "64", "param__steps": "7", "param__guidance": "5.0",
            "param__negative_prompt": "", "param__num_images": "1"}
    with capture(execute=False):
        response = client(users["creator"]).post(
            reverse("portal:generate", args=[project.slug]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = GenerationJob.objects.latest("queued_at")
    assert job.rendered_prompt == "a photo of Kite, watercolour"
    # settings left as shown gave way to the style's; the one changed won
    assert (job.parameters["width"], job.parameters["height"], job.parameters["steps"]) == (
        128, 96, 7)
    assert job.parameters["style"] == "Autumn" and job.parameters["negative_prompt"] == "text"
    assert job.parent_asset_id == reference.pk


def test_an_unknown_style_is_refused_on_its_field(users, project, shot):
    styles.create_style(users["owner"], project, {"name": "Autumn"})
    response = client(users["creator"]).post(reverse("portal:generate", args=[project.slug]), {
        "prompt_version": shot.latest_version().pk, "var__product": "Kite",
        "style": "Winter"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_style_error"' in html and "unknown; styles: Autumn" in html
    assert not GenerationJob.objects.filter(parameters__has_key="style").exists()
