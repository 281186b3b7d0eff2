"""Brand styles: who may define them, their bounds and reference image, and what applying
one to a submission makes of the job (the provenance manifest's contract)."""

from __future__ import annotations

import pytest

from assay.audit.models import AuditEvent
from assay.core.exceptions import InvalidInput, NotFound, NotPermitted
from assay.generation.models import GenerationJob
from assay.plugins.manager import get_plugins
from governance.provenance.manifest import applied_parameters
from governance.review import styles
from governance.review.choices import ReviewStatus
from governance.review.style_models import BrandStyle
from governance.review.styled import styled_submission
from tests.conftest import make_template
from tests.review.style_helpers import approve, approved_image, image_asset, image_template

pytestmark = pytest.mark.django_db

AUTUMN = {"name": "Autumn", "prompt_additions": "watercolour, warm light",
          "negative_prompt": "text, logos", "width": 128, "height": 96, "steps": 12}


@pytest.fixture
def shot(project, users):
    return image_template(project, users["owner"])


# --- who may define styles --------------------------------------------------------------
def test_an_owner_adds_a_style_with_its_audit_event(users, project):
    style = styles.create_style(users["owner"], project, AUTUMN)
    assert (style.name, style.width, style.height, style.steps) == ("Autumn", 128, 96, 12)
    event = AuditEvent.objects.get(action="review.style.created")
    assert event.project_id == project.pk and event.target_id == str(style.pk)
    assert event.data["after"]["prompt_additions"] == "watercolour, warm light"


@pytest.mark.parametrize("role", ["creator", "reviewer"])
def test_only_owners_define_styles(users, project, role):
    with pytest.raises(NotPermitted):
        styles.create_style(users[role], project, AUTUMN)
    style = styles.create_style(users["owner"], project, AUTUMN)
    with pytest.raises(NotPermitted):
        styles.update_style(users[role], style, {"steps": 3})
    with pytest.raises(NotPermitted):
        styles.delete_style(users[role], style)
    assert BrandStyle.objects.get().steps == 12


def test_an_outsider_finds_no_project(users, project):
    with pytest.raises(NotFound):
        styles.create_style(users["outsider"], project, AUTUMN)
    with pytest.raises(NotFound):
        styles.styles_of(users["outsider"], project)


def test_members_read_the_styles(users, project):
    styles.create_style(users["owner"], project, AUTUMN)
    for role in ("creator", "reviewer", "auditor"):
        assert [s.name for s in styles.styles_of(users[role], project)] == ["Autumn"]


def test_names_are_unique_per_project_whatever_their_case(users, project, other_project):
    styles.create_style(users["owner"], project, AUTUMN)
    with pytest.raises(InvalidInput) as caught:
        styles.create_style(users["owner"], project, {"name": "  autumn "})
    assert caught.value.errors == {"name": ["already used in this project"]}
    # another project may use the name
    styles.create_style(users["admin"], other_project, {"name": "Autumn"})
    assert BrandStyle.objects.count() == 2


# --- bounds (those of the image generator's parameters) ---------------------------------
@pytest.mark.parametrize(("field", "value"), [
    ("width", 56), ("width", 1032), ("height", 100), ("steps", 0), ("steps", 101),
    ("strength", 0.01), ("strength", 1.5), ("width", "128"), ("steps", True),
    ("negative_prompt", "x" * 1001), ("prompt_additions", "x" * 1001), ("name", ""),
    ("name", "n" * 61), ("description", "nul\x00"),
])
def test_out_of_bounds_values_are_refused_naming_the_field(users, project, field, value):
    with pytest.raises(InvalidInput) as caught:
        styles.create_style(users["owner"], project, {**AUTUMN, field: value})
    assert field in caught.value.errors
    assert not BrandStyle.objects.exists()
    assert not AuditEvent.objects.filter(action="review.style.created").exists()


def test_unknown_fields_are_refused(users, project):
    with pytest.raises(InvalidInput) as caught:
        styles.create_style(users["owner"], project, {**AUTUMN, "guidance": 3})
    assert "guidance" in caught.value.errors


def test_the_bounds_are_the_image_generators(shot):
    params = {p.name: p for p in get_plugins().generator("image-diffusers").all_parameters()}
    for name in ("width", "height"):
        assert (params[name].minimum, params[name].maximum) == (styles.SIZE_MIN,
                                                                styles.SIZE_MAX)
    assert (params["steps"].minimum, params["steps"].maximum) == (styles.STEPS_MIN,
                                                                  styles.STEPS_MAX)
    assert (params["strength"].minimum, params["strength"].maximum) == (
        styles.STRENGTH_MIN, styles.STRENGTH_MAX)
    assert params["negative_prompt"].max_length == styles.NEGATIVE_CHARS


# --- the reference image ------------------------------------------------------------------
def test_the_reference_must_be_an_approved_image(users, project, shot,
                                                 django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    pending = image_asset(project, users["creator"], capture)
    with pytest.raises(InvalidInput) as caught:
        styles.create_style(users["owner"], project, {**AUTUMN, "reference": str(pending.pk)})
    assert caught.value.errors == {"reference": ["not approved"]}
    approve(pending, ReviewStatus.REJECTED)
    with pytest.raises(InvalidInput):
        styles.create_style(users["owner"], project, {**AUTUMN, "reference": str(pending.pk)})
    approve(pending)
    style = styles.create_style(users["owner"], project,
                                {**AUTUMN, "reference": str(pending.pk), "strength": 0.4})
    assert style.reference == pending and style.strength == 0.4
    assert list(styles.approved_images(project)) == [pending]


def test_the_reference_must_be_of_the_same_project(users, project, other_project, shot,
                                                   django_capture_on_commit_callbacks):
    image_template(other_project, users["outsider"])
    theirs = approved_image(other_project, users["outsider"], django_capture_on_commit_callbacks)
    for ref in (str(theirs.pk), "not-a-uuid"):
        with pytest.raises(InvalidInput) as caught:
            styles.create_style(users["owner"], project, {**AUTUMN, "reference": ref})
        assert "reference" in caught.value.errors


def test_update_and_delete_keep_the_audit_trail(users, project):
    style = styles.create_style(users["owner"], project, AUTUMN)
    styles.update_style(users["owner"], style, {"steps": 20, "width": None})
    style.refresh_from_db()
    assert (style.steps, style.width, style.name) == (20, None, "Autumn")
    event = AuditEvent.objects.get(action="review.style.updated")
    assert event.data["before"]["steps"] == 12 and event.data["after"]["steps"] == 20
    styles.delete_style(users["owner"], style)
    assert not BrandStyle.objects.exists()
    gone = AuditEvent.objects.get(action="review.style.deleted")
    assert gone.data["before"]["name"] == "Autumn" and gone.project_id == project.pk


# --- applying a style ---------------------------------------------------------------------
def _styled(user, project, capture, **kwargs):
    kwargs.setdefault("variables", {"product": "Kite"})
    kwargs.setdefault("template", "shot")
    with capture(execute=False):
        return styled_submission(user, project=project, **kwargs)


def test_a_styled_job_has_the_styles_prompt_settings_and_reference(
        users, project, shot, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reference = approved_image(project, users["creator"], capture)
    styles.create_style(users["owner"], project,
                        {**AUTUMN, "reference": str(reference.pk), "strength": 0.35})
    job = _styled(users["creator"], project, capture, style="autumn",
                  parameters={"negative_prompt": "people"})
    assert job.rendered_prompt == "a photo of Kite, watercolour, warm light"
    params = job.parameters
    assert params["style"] == "Autumn"
    assert (params["width"], params["height"], params["steps"]) == (128, 96, 12)
    assert params["negative_prompt"] == "text, logos, people"
    assert params["strength"] == 0.35
    assert job.parent_asset_id == reference.pk
    # what the provenance manifest records of the job: the style among the parameters
    assert applied_parameters(job)["style"] == "Autumn"
    submitted = AuditEvent.objects.filter(action="studio.generation.submitted").latest("id")
    assert submitted.data["parameters"]["style"] == "Autumn"
    assert submitted.data["parent_asset"] == str(reference.pk)


def test_what_the_creator_sends_wins_over_the_style(users, project, shot,
                                                    django_capture_on_commit_callbacks):
    styles.create_style(users["owner"], project, AUTUMN)
    job = _styled(users["creator"], project, django_capture_on_commit_callbacks,
                  style="Autumn", parameters={"steps": 3, "width": 64})
    assert (job.parameters["steps"], job.parameters["width"], job.parameters["height"]) == (
        3, 64, 96)
    assert job.parent_asset_id is None and "strength" not in applied_parameters(job)


def test_without_a_style_it_is_a_plain_submission(users, project, shot,
                                                  django_capture_on_commit_callbacks):
    job = _styled(users["creator"], project, django_capture_on_commit_callbacks, style=None)
    assert "style" not in job.parameters and job.rendered_prompt == "a photo of Kite"


@pytest.mark.parametrize(("template", "style", "key"), [
    ("shot", "Winter", "style"),      # no such style
    ("blurb", "Autumn", "style"),     # a text prompt
])
def test_unknown_styles_and_text_prompts_are_refused(users, project, shot, template, style,
                                                     key, django_capture_on_commit_callbacks):
    make_template(project, users["owner"])
    styles.create_style(users["owner"], project, AUTUMN)
    with pytest.raises(InvalidInput) as caught:
        _styled(users["creator"], project, django_capture_on_commit_callbacks,
                template=template, style=style)
    assert key in caught.value.errors
    assert not GenerationJob.objects.filter(parameters__has_key="style").exists()


def test_a_styles_reference_replaces_no_other_starting_image(
        users, project, shot, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reference = approved_image(project, users["creator"], capture)
    other = image_asset(project, users["creator"], capture, color=(0, 0, 200))
    styles.create_style(users["owner"], project, {**AUTUMN, "reference": str(reference.pk)})
    with pytest.raises(InvalidInput) as caught:
        _styled(users["creator"], project, capture, style="Autumn", parent_asset=str(other.pk))
    assert "parent_asset" in caught.value.errors
    # naming the reference itself is fine
    job = _styled(users["creator"], project, capture, style="Autumn",
                  parent_asset=str(reference.pk))
    assert job.parent_asset_id == reference.pk


def test_a_reference_no_longer_approved_is_refused(users, project, shot,
                                                   django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reference = approved_image(project, users["creator"], capture)
    styles.create_style(users["owner"], project, {**AUTUMN, "reference": str(reference.pk)})
    reference.reviews.update(status=ReviewStatus.SUPERSEDED)
    with pytest.raises(InvalidInput) as caught:
        _styled(users["creator"], project, capture, style="Autumn")
    assert caught.value.errors == {"style": ["reference image not approved"]}


def test_a_reviewer_may_not_submit_with_a_style(users, project, shot,
                                                django_capture_on_commit_callbacks):
    styles.create_style(users["owner"], project, AUTUMN)
    with pytest.raises(NotPermitted):
        _styled(users["reviewer"], project, django_capture_on_commit_callbacks, style="Autumn")
