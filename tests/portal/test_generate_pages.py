"""The generation form and the job page for people: words first, settings folded, links that
start from an earlier job or image, every error at once, quotas in a sentence, query counts."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.generation.storage import store_outputs
from assay.plugins.contracts import GeneratedOutput
from assay.portal.quota_words import quota_message
from assay.studio.models import Asset
from assay.studio.services.prompts import create_template
from governance.usage.services import set_quota
from tests.conftest import make_template

pytestmark = pytest.mark.django_db


def _block(html: str, name: str) -> str:
    match = re.search(rf'<div class="field[^"]*" data-field="{re.escape(name)}">(.*?)\n</div>',
                      html, re.S)
    assert match, f"no field {name} in the page"
    return match.group(1)


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end, html.index(start))]


def _generate(client: Any, project: Any, **query: Any) -> Any:
    return client.get(reverse("portal:generate", args=[project.slug]), query)


def _job(user: Any, project: Any, capture: Any, template: str = "blurb", **kwargs: Any) -> Any:
    kwargs.setdefault("variables", {"product": "Rocket Soap"})
    with capture(execute=False):
        return submit_generation(user, project=project, template=template, **kwargs)


def _image_asset(project: Any, user: Any, capture: Any) -> Asset:
    """An image template ``shot`` and a stored image asset made with it."""
    make_template(project, user, slug="shot", generator="image-diffusers",
                  text="a photo of {{ product }}")
    job = _job(user, project, capture, template="shot")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    [asset] = store_outputs(job, [GeneratedOutput(kind="image", media_type="image/png",
                                                  data=png, width=64, height=64)])
    GenerationJob.objects.filter(pk=job.pk).update(status="succeeded", progress=100)
    return asset


# -- plain first, the rest folded --------------------------------------------------------
def test_plain_settings_come_first_and_the_rest_is_folded_with_labels(client, users, project,
                                                                     template):
    client.force_login(users["creator"])
    html = _generate(client, project).content.decode()
    plain = _section(html, 'class="param-grid plain-settings"', "</div>\n  \n  <details")
    assert "Number of variants" in plain and 'name="param__num_variants"' in plain
    assert "param__fail" not in plain and 'name="seed"' not in plain
    fold = _section(html, '<details class="advanced-settings"', "</details>\n</fieldset>")
    assert "<summary>Advanced settings</summary>" in fold
    for name, label in (("fail", "Fail on purpose"), ("step_seconds", "Seconds per step"),
                        ("seed", "Seed"), ("steps", "Steps")):
        assert label in fold and f"<code>{name}</code>" in fold  # raw name only in here
    # the plain settings' raw names are listed inside the fold, and nowhere else
    assert "<code>num_variants</code>" in fold and html.count("<code>num_variants</code>") == 1


def test_generator_select_is_in_words_with_the_id_behind_details(client, users, project,
                                                                template):
    client.force_login(users["creator"])
    html = _generate(client, project).content.decode()
    assert re.search(r'<option value="dummy-echo" selected>Test generator: echoes the prompt'
                     r"</option>", html)
    assert re.search(r'<option value="text-transformers">[^<]*[a-z ]+</option>', html)
    details = _section(html, '<details class="raw-details generator-details">', "</details>")
    assert "<summary>Details</summary>" in details and "<code>dummy-echo</code>" in details


def test_variable_label_and_its_help_are_separate(client, users, project):
    create_template(project, users["owner"], name="Intro", slug="intro",
                    text="About {{ product }} for {{ audience }}.", generator_id="dummy-echo",
                    variables=[{"name": "product", "description": "Product name"},
                               {"name": "audience", "description": "Who it is for",
                                "required": False, "default": "busy teams"}])
    client.force_login(users["creator"])
    block = _block(_generate(client, project).content.decode(), "var__audience")
    assert '<label for="id_var__audience">Who it is for</label>' in block
    assert '<p class="help" id="id_var__audience_helptext">Leave blank to use “busy teams”.</p>' \
        in block
    assert "Who it is for Leave blank" not in block


def test_text_forms_no_longer_apologise_for_the_model(client, users, project, template):
    client.force_login(users["creator"])
    html = _generate(client, project).content.decode()
    assert "demo-model-note" not in html and "not a real language model" not in html


# -- switching generator -----------------------------------------------------------------
def test_switching_generator_renders_that_generators_own_fields_and_defaults(
        client, users, project):
    make_template(project, users["owner"], steps=20)
    client.force_login(users["creator"])
    version = project.prompt_templates.get().latest_version()
    html = client.get(reverse("portal:generate_fields", args=[project.slug]), {
        "prompt_version": version.pk, "generator": "text-transformers",
        "var__product": "Soap"}).content.decode()
    assert "param__steps" not in html
    assert 'value="64"' in _block(html, "param__max_new_tokens")  # its own default
    assert 'value="Soap"' in _block(html, "var__product")


def test_switched_generator_submits(client, users, project, django_capture_on_commit_callbacks):
    make_template(project, users["owner"], steps=20)
    client.force_login(users["creator"])
    version = project.prompt_templates.get().latest_version()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("portal:generate", args=[project.slug]), {
            "prompt_version": version.pk, "generator": "text-transformers",
            "var__product": "Soap", "param__max_new_tokens": "16", "seed": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = GenerationJob.objects.get()
    assert job.generator_id == "text-transformers" and job.parameters["max_new_tokens"] == 16
    assert "steps" not in job.parameters


# -- every error at once -----------------------------------------------------------------
def test_every_error_shows_at_once_with_the_values_kept(client, users, project, template):
    client.force_login(users["creator"])
    response = client.post(reverse("portal:generate", args=[project.slug]), {
        "prompt_version": template.latest_version().pk, "generator": "dummy-echo",
        "var__product": "", "var__audience": "teachers", "param__num_variants": "9",
        "param__step_seconds": "99", "seed": "7"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "is required" in _block(html, "var__product")
    assert "must be at most 4 (got 9)" in _block(html, "param__num_variants")
    assert "must be at most 5 (got 99)" in _block(html, "param__step_seconds")
    summary = _section(html, 'id="error-summary"', "</div>")
    assert "Fix these 3 things" in summary
    assert '<a href="#id_var__product">Product</a>: is required' in summary
    assert '<a href="#id_param__step_seconds">Seconds per step</a>' in summary
    assert '<details class="advanced-settings" id="advanced-settings" open>' in html
    assert 'value="teachers"' in _block(html, "var__audience")
    assert 'value="7"' in _block(html, "seed")
    assert GenerationJob.objects.count() == 0


# -- starting from an earlier job --------------------------------------------------------
def test_from_job_prefills_version_generator_variables_settings_and_seed(
        client, users, project, template, django_capture_on_commit_callbacks):
    job = _job(users["creator"], project, django_capture_on_commit_callbacks,
               variables={"product": "Rocket Soap", "audience": "cooks"},
               parameters={"steps": 3, "seed": 42})
    make_template(project, users["owner"], slug="other")  # not the job's version
    client.force_login(users["creator"])
    html = _generate(client, project, from_job=job.pk).content.decode()
    assert f'<option value="{job.prompt_version_id}" selected>' in html
    assert 'value="Rocket Soap"' in _block(html, "var__product")
    assert 'value="cooks"' in _block(html, "var__audience")
    assert 'value="3"' in _block(html, "param__steps")
    assert 'value="42"' in _block(html, "seed")
    # duplicate and edit: the same, without the seed
    edit = _generate(client, project, from_job=job.pk, edit=1).content.decode()
    assert 'value="3"' in _block(edit, "param__steps")
    assert "value=" not in _block(edit, "seed")


def test_from_job_is_scoped_to_what_the_user_sees(client, users, project, other_project,
                                                  django_capture_on_commit_callbacks):
    make_template(other_project, users["outsider"])
    make_template(project, users["owner"])
    secret = _job(users["outsider"], other_project, django_capture_on_commit_callbacks,
                  variables={"product": "Secret Soap"})
    client.force_login(users["creator"])
    html = _generate(client, project, from_job=secret.pk).content.decode()
    assert "Secret Soap" not in html
    assert "earlier generation in the link was not found" in html


def test_revise_submits_revision_of_and_says_it_goes_to_review(
        client, users, project, template, django_capture_on_commit_callbacks):
    job = _job(users["creator"], project, django_capture_on_commit_callbacks,
               parameters={"seed": 5})
    with django_capture_on_commit_callbacks(execute=False):
        assert run_job(str(job.pk), worker="w") == "succeeded"
    asset = Asset.objects.get(job=job)
    client.force_login(users["creator"])
    html = _generate(client, project, from_job=job.pk, revise=asset.pk).content.decode()
    assert "This makes a new version of the text from “Blurb”" in html
    assert "which goes to review" in html
    assert f'name="revision_of" value="{asset.pk}"' in html
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("portal:generate", args=[project.slug]), {
            "prompt_version": job.prompt_version_id, "generator": "dummy-echo",
            "var__product": "Rocket Soap", "revision_of": str(asset.pk)})
    assert response.status_code == 302, response.content.decode()[:3000]
    newest = GenerationJob.objects.exclude(pk=job.pk).get()
    assert newest.revision_of_id == asset.pk


# -- image-to-image ----------------------------------------------------------------------
def test_parent_asset_preselects_an_image_version_and_shows_the_image(
        client, users, project, template, django_capture_on_commit_callbacks):
    image = _image_asset(project, users["owner"], django_capture_on_commit_callbacks)
    shot = project.prompt_templates.get(slug="shot").latest_version()
    client.force_login(users["creator"])
    html = _generate(client, project, parent_asset=image.pk).content.decode()
    assert f'<option value="{shot.pk}" selected>' in html
    assert f'name="parent_asset" value="{image.pk}"' in html
    assert f'src="{reverse("portal:asset_content", args=[image.pk])}" alt="The starting image"' \
        in html
    assert 'name="param__strength"' in html  # acts only on a starting image: shown now
    assert 'value="Rocket Soap"' in _block(html, "var__product")  # what the image was of
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("portal:generate", args=[project.slug]), {
            "prompt_version": shot.pk, "generator": "image-diffusers",
            "var__product": "Kite", "parent_asset": str(image.pk)})
    assert response.status_code == 302
    assert GenerationJob.objects.latest("queued_at").parent_asset_id == image.pk


def test_a_text_prompt_with_a_starting_image_is_refused_in_words(
        client, users, project, template, django_capture_on_commit_callbacks):
    image = _image_asset(project, users["owner"], django_capture_on_commit_callbacks)
    client.force_login(users["creator"])
    text_version = template.latest_version()
    partial = client.get(reverse("portal:generate_fields", args=[project.slug]), {
        "prompt_version": text_version.pk, "parent_asset": image.pk}).content.decode()
    assert "Only image prompts can start from an image" in partial
    response = client.post(reverse("portal:generate", args=[project.slug]), {
        "prompt_version": text_version.pk, "generator": "dummy-echo",
        "var__product": "Kite", "parent_asset": str(image.pk)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Starting asset: this generator cannot start from an existing asset" in html
    assert "parent_asset:" not in html


# -- quotas -----------------------------------------------------------------------------
def test_a_quota_refusal_is_a_sentence_on_the_form_not_an_error_page(
        client, users, project, template, django_capture_on_commit_callbacks):
    set_quota(None, "project", project, "jobs", 1)
    _job(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["creator"])
    response = client.post(reverse("portal:generate", args=[project.slug]), {
        "prompt_version": template.latest_version().pk, "var__product": "Kite"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    html = response.content.decode()
    now = dt.datetime.now(dt.UTC)
    following = dt.date(now.year + now.month // 12, now.month % 12 + 1, 1)
    assert (f"This project has used its 1 generation for {now:%B}, counting work still "
            f"queued or running; it resets on 1 {following:%B}.") in html
    assert 'value="Kite"' in _block(html, "var__product")
    assert GenerationJob.objects.count() == 1


@pytest.mark.parametrize("quota,words", [
    ({"scope": "project", "metric": "jobs", "limit": 100, "used": 100, "reserved": 0,
      "left": 0, "requested": 1, "resets_at": "2027-01-01T00:00:00Z"},
     "This project has used its 100 generations for December; it resets on 1 January. "
     "An admin can raise the limit."),
    ({"scope": "team", "metric": "images", "limit": 10, "used": 8, "reserved": 0, "left": 2,
      "requested": 4, "resets_at": "2026-07-01T00:00:00Z"},
     "Your team has only 2 images left of its 10 images for June, and this needs 4 images; "
     "it resets on 1 July."),
    ({"scope": "user", "project": "launch", "metric": "tokens", "limit": 500, "used": 500,
      "reserved": 0, "left": 0, "requested": 64, "resets_at": "2026-03-01T00:00:00Z"},
     "You have used your 500 tokens of text for February in this project; it resets on "
     "1 March."),
])
def test_quota_message_words(quota, words):
    assert quota_message(quota).startswith(words)


# -- the job page ----------------------------------------------------------------------
def test_job_page_shows_variants_side_by_side_and_settings_in_words(
        client, users, project, template, django_capture_on_commit_callbacks):
    job = _job(users["creator"], project, django_capture_on_commit_callbacks,
               parameters={"num_variants": 2, "steps": 3, "seed": 9})
    with django_capture_on_commit_callbacks(execute=False):
        assert run_job(str(job.pk), worker="w") == "succeeded"
    client.force_login(users["creator"])
    html = client.get(reverse("portal:job", args=[job.pk])).content.decode()
    assert "2 variants, side by side" in html
    grid = _section(html, '<div class="output-grid output-grid-many">', "</section>")
    assert grid.count('<figure class="output"') == 2
    assert "Variant 1" in grid and "Variant 2" in grid
    facts = _section(html, '<dl class="facts">', "</dl>")
    assert "Number of variants: 2" in facts and "Steps: 3" in facts
    assert "num_variants" not in facts and "dummy-echo" not in facts
    details = _section(html, '<details class="raw-details" id="job-details">', "</details>")
    assert "<code>num_variants=2</code>" in details and "<code>dummy-echo</code>" in details
    assert f"?from_job={job.pk}" in html and f"?from_job={job.pk}&amp;edit=1" in html
    assert "demo-image-note" not in html


def test_job_page_says_demo_images_are_noise(client, users, project, template,
                                             django_capture_on_commit_callbacks):
    image = _image_asset(project, users["owner"], django_capture_on_commit_callbacks)
    client.force_login(users["creator"])
    assert image.job.model_ref["name"] == "assay-demo-image"
    html = client.get(reverse("portal:job", args=[image.job_id])).content.decode()
    assert "demo model that draws noise" in html
    assert f"?parent_asset={image.pk}" in html  # use as starting image


# -- query counts ------------------------------------------------------------------------
def test_generate_page_query_count(client, users, project, template,
                                   django_assert_max_num_queries):
    make_template(project, users["owner"], slug="second")
    client.force_login(users["creator"])
    with django_assert_max_num_queries(10):
        assert _generate(client, project).status_code == 200


def test_generate_page_from_a_job_query_count(client, users, project, template,
                                              django_capture_on_commit_callbacks,
                                              django_assert_max_num_queries):
    job = _job(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["creator"])
    with django_assert_max_num_queries(11):
        assert _generate(client, project, from_job=job.pk).status_code == 200


def test_fields_partial_query_count(client, users, project, template,
                                    django_assert_max_num_queries):
    client.force_login(users["creator"])
    with django_assert_max_num_queries(9):
        response = client.get(reverse("portal:generate_fields", args=[project.slug]),
                              {"prompt_version": template.latest_version().pk,
                               "generator": "text-transformers"})
    assert response.status_code == 200


@pytest.mark.parametrize("variants", [1, 3])
def test_job_page_query_count_does_not_grow_with_variants(
        client, users, project, template, django_capture_on_commit_callbacks,
        django_assert_max_num_queries, variants):
    job = _job(users["creator"], project, django_capture_on_commit_callbacks,
               parameters={"num_variants": variants})
    with django_capture_on_commit_callbacks(execute=False):
        assert run_job(str(job.pk), worker="w") == "succeeded"
    client.force_login(users["creator"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("portal:job", args=[job.pk]))
    assert response.content.decode().count('<figure class="output"') == variants


def test_a_text_asset_starts_a_speech_prompt_that_reads_it_aloud(
        client, users, project, template, django_capture_on_commit_callbacks):
    make_template(project, users["owner"], slug="voice", generator="speech-vits",
                  text="Meet {{ product }}.")
    voice = project.prompt_templates.get(slug="voice").latest_version()
    job = _job(users["creator"], project, django_capture_on_commit_callbacks)
    [script] = store_outputs(job, [GeneratedOutput(kind="text", media_type="text/plain",
                                                   text="Kite flies far.")])
    client.force_login(users["creator"])
    html = _generate(client, project, parent_asset=script.pk).content.decode()
    assert f'<option value="{voice.pk}" selected>' in html
    assert f'name="parent_asset" value="{script.pk}"' in html
    assert "Kite flies far." in html and "is what is read aloud" in html
    assert 'alt="The starting image"' not in html
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("portal:generate", args=[project.slug]), {
            "prompt_version": voice.pk, "generator": "speech-vits",
            "var__product": "Kite", "parent_asset": str(script.pk)})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert GenerationJob.objects.latest("queued_at").parent_asset_id == script.pk
