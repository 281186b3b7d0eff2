"""Portal pages through Django's test client: scoping, the generation form, jobs, assets."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from tests.conftest import make_template

pytestmark = pytest.mark.django_db


def _field_block(html: str, name: str) -> str:
    """The markup of one form field wrapper (label, input, help, errors)."""
    match = re.search(rf'<div class="field[^"]*" data-field="{re.escape(name)}">(.*?)\n</div>',
                      html, re.S)
    assert match, f"no field {name} in the page"
    return match.group(1)


def _queued_job(user: Any, project: Any, template: Any, django_capture_on_commit_callbacks: Any,
                **parameters: Any) -> GenerationJob:
    with django_capture_on_commit_callbacks(execute=False):
        return submit_generation(user, project=project, template=template.slug,
                                 variables={"product": "Rocket Soap"}, parameters=parameters)


# -- sign in and out ---------------------------------------------------------------------
def test_login_page_renders_and_a_wrong_password_shows_an_error(client, users):
    page = client.get(reverse("portal:login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content and b'name="password"' in page.content

    wrong = client.post(reverse("portal:login"), {"username": "cara", "password": "nope"})
    assert wrong.status_code == 200
    assert b"correct username and password" in wrong.content
    assert "_auth_user_id" not in client.session

    right = client.post(reverse("portal:login"), {"username": "cara", "password": "pw"})
    assert right.status_code == 302 and right["Location"] == reverse("portal:home")


def test_logout_works_by_post_and_pages_then_ask_to_sign_in(client, users):
    client.force_login(users["creator"])
    home = client.get(reverse("portal:home"))
    assert f'action="{reverse("portal:logout")}"'.encode() in home.content
    assert client.post(reverse("portal:logout")).status_code == 302
    again = client.get(reverse("portal:home"))
    assert again.status_code == 302 and again["Location"].startswith(reverse("portal:login"))


# -- projects ------------------------------------------------------------------------------
def test_home_lists_only_the_users_projects_with_their_role(client, users, project,
                                                            other_project):
    client.force_login(users["owner"])
    page = client.get(reverse("portal:home")).content.decode()
    assert "Launch" in page and "Secret" not in page
    assert "owner" in page

    client.force_login(users["outsider"])
    page = client.get(reverse("portal:home")).content.decode()
    assert "Secret" in page and "Launch" not in page


def test_home_needs_a_login(client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_project_page_lists_templates_and_jobs_for_a_member(
        client, users, project, template, django_capture_on_commit_callbacks):
    client.force_login(users["creator"])
    url = reverse("portal:project", args=[project.slug])
    _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as one_job:
        client.get(url)
    for _ in range(3):
        _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as four_jobs:
        page = client.get(url)
    assert len(four_jobs) == len(one_job)  # no query per job row
    assert page.status_code == 200
    html = page.content.decode()
    assert "Blurb" in html and "latest → v1" in html and "<code>product</code>" in html
    assert html.count('class="badge badge-queued"') == 4
    assert html.count(">cara</td>") == 4
    assert "New generation" in html


def test_project_page_hides_new_generation_from_a_reviewer(client, users, project, template):
    client.force_login(users["reviewer"])
    page = client.get(reverse("portal:project", args=[project.slug]))
    assert page.status_code == 200 and b"New generation" not in page.content


def test_project_page_is_404_for_an_outsider(client, users, project, template):
    client.force_login(users["outsider"])
    assert client.get(reverse("portal:project", args=[project.slug])).status_code == 404


# -- the generation form -------------------------------------------------------------------
def test_generate_form_renders_for_the_creator(client, users, project, template):
    client.force_login(users["creator"])
    page = client.get(reverse("portal:generate", args=[project.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    version = template.latest_version()
    assert f'<option value="{version.pk}" selected>Blurb v1 (latest)</option>' in html
    assert 'name="var__product"' in html and 'name="var__audience"' in html
    assert '<option value="dummy-echo"' in html
    steps = _field_block(html, "param__steps")
    assert 'type="number"' in steps and 'min="1"' in steps and 'max="1000"' in steps
    assert 'type="checkbox"' in _field_block(html, "param__fail")
    assert 'name="seed"' in html
    assert 'hx-get="' + reverse("portal:generate_fields", args=[project.slug]) in html


def test_generate_form_is_403_for_a_reviewer(client, users, project, template):
    client.force_login(users["reviewer"])
    page = client.get(reverse("portal:generate", args=[project.slug]))
    assert page.status_code == 403
    assert b"you need the role" in page.content
    post = client.post(reverse("portal:generate", args=[project.slug]),
                       {"var__product": "Soap"})
    assert post.status_code == 403 and GenerationJob.objects.count() == 0


def test_generate_form_prefills_the_versions_default_parameters(client, users, project):
    make_template(project, users["owner"], slug="slow", steps=20, step_seconds=0.05)
    client.force_login(users["creator"])
    version = project.prompt_templates.get(slug="slow").latest_version()
    html = client.get(reverse("portal:generate", args=[project.slug]),
                      {"version": version.pk}).content.decode()
    assert 'value="20"' in _field_block(html, "param__steps")
    assert 'value="0.05"' in _field_block(html, "param__step_seconds")


def test_fields_partial_renders_the_chosen_version_and_keeps_typed_values(client, users,
                                                                         project, template):
    other = make_template(project, users["owner"], slug="other",
                          text="Name {{ product }} for {{ audience }}, briefly.")
    client.force_login(users["creator"])
    version = other.latest_version()
    page = client.get(reverse("portal:generate_fields", args=[project.slug]),
                      {"prompt_version": version.pk, "var__product": "Soap & <Co>"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" not in html  # a fragment
    assert "Name {{ product }} for {{ audience }}, briefly." in html
    assert 'value="Soap &amp; &lt;Co&gt;"' in html  # carried over, escaped


def test_missing_required_variable_is_400_with_the_error_next_to_the_field(
        client, users, project, template):
    client.force_login(users["creator"])
    response = client.post(reverse("portal:generate", args=[project.slug]), {
        "prompt_version": template.latest_version().pk, "var__product": "",
        "generator": "dummy-echo", "param__steps": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    product = _field_block(html, "var__product")
    assert "is required" in product and 'aria-invalid="true"' in product
    assert "Fix the prompt variables" in html
    assert GenerationJob.objects.count() == 0


def test_out_of_bounds_parameter_is_400_with_the_message(client, users, project, template):
    client.force_login(users["creator"])
    response = client.post(reverse("portal:generate", args=[project.slug]), {
        "prompt_version": template.latest_version().pk, "var__product": "Soap",
        "generator": "dummy-echo", "param__steps": "100000"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "must be at most 1000 (got 100000)" in _field_block(html, "param__steps")
    assert "Parameters out of bounds" in html
    assert 'value="Soap"' in _field_block(html, "var__product")  # what was typed stays
    assert GenerationJob.objects.count() == 0


def test_unknown_generator_is_shown_at_the_generator_select(client, users, project, template):
    client.force_login(users["creator"])
    response = client.post(reverse("portal:generate", args=[project.slug]), {
        "prompt_version": template.latest_version().pk, "var__product": "Soap",
        "generator": "no-such-generator"})
    assert response.status_code == 400
    assert "unknown; available" in _field_block(response.content.decode(), "generator")
    assert GenerationJob.objects.count() == 0


def test_valid_post_creates_one_job_and_opens_its_page(client, users, project, template,
                                                      django_capture_on_commit_callbacks):
    client.force_login(users["creator"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("portal:generate", args=[project.slug]), {
            "prompt_version": template.latest_version().pk, "var__product": "Rocket Soap",
            "var__audience": "", "generator": "dummy-echo", "seed": "42",
            "param__steps": "3", "param__step_seconds": "", "param__fail": ""})
    assert GenerationJob.objects.count() == 1
    job = GenerationJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:job", args=[job.pk])
    assert len(callbacks) == 1  # the broker send, held back
    assert job.requested_by == users["creator"] and job.seed == 42
    assert job.parameters["steps"] == 3 and job.parameters["fail"] is False
    assert job.rendered_prompt == "Write about Rocket Soap for everyone."


# -- jobs ----------------------------------------------------------------------------------
def test_job_page_shows_the_request_and_polls_while_queued(
        client, users, project, template, django_capture_on_commit_callbacks):
    job = _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    client.force_login(users["reviewer"])
    page = client.get(reverse("portal:job", args=[job.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Write about Rocket Soap for everyone." in html
    assert f'hx-get="{reverse("portal:job_status", args=[job.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "Cancel</button>" not in html  # reviewers cannot cancel
    assert "X-CSRFToken" in html


def test_job_page_is_404_for_a_non_member(client, users, project, template,
                                          django_capture_on_commit_callbacks):
    job = _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    client.force_login(users["outsider"])
    assert client.get(reverse("portal:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("portal:job_status", args=[job.pk])).status_code == 404
    assert client.post(reverse("portal:job_cancel", args=[job.pk])).status_code == 404


def test_status_partial_stops_polling_once_the_job_is_terminal(
        client, users, project, template, django_capture_on_commit_callbacks):
    job = _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    client.force_login(users["creator"])
    url = reverse("portal:job_status", args=[job.pk])
    before = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in before and 'data-status="queued"' in before

    assert run_job(str(job.pk), worker="test") == "succeeded"
    after = client.get(url).content.decode()
    assert "hx-trigger" not in after and "hx-get" not in after
    assert 'data-status="succeeded"' in after
    assert "Write about Rocket Soap for everyone." in after  # dummy-echo echoes the prompt
    assert "Cancel</button>" not in after


def test_failed_job_shows_the_error_in_words(client, users, project, template,
                                             django_capture_on_commit_callbacks):
    job = _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks,
                      fail=True)
    run_job(str(job.pk), worker="test")
    client.force_login(users["creator"])
    html = client.get(reverse("portal:job", args=[job.pk])).content.decode()
    assert 'data-status="failed"' in html
    assert "the dummy generator was asked to fail" in html


def test_output_text_is_escaped(client, users, project, template,
                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=project, template=template.slug,
                                variables={"product": "<script>alert(1)</script>"})
    run_job(str(job.pk), worker="test")
    client.force_login(users["creator"])
    html = client.get(reverse("portal:job_status", args=[job.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_cancel_via_the_portal_moves_a_queued_job_to_cancelled(
        client, users, project, template, django_capture_on_commit_callbacks):
    job = _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    client.force_login(users["creator"])
    html = client.get(reverse("portal:job", args=[job.pk])).content.decode()
    assert "Cancel</button>" in html
    response = client.post(reverse("portal:job_cancel", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("portal:job",
                                                                           args=[job.pk])
    job.refresh_from_db()
    assert job.status == "cancelled"
    page = client.get(response["Location"]).content.decode()
    assert "Cancelled." in page and 'data-status="cancelled"' in page

    # Cancelling again is a conflict, shown in words (htmx gets the status block back).
    again = client.post(reverse("portal:job_cancel", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert again.status_code == 200
    assert "already cancelled; there is nothing to cancel" in again.content.decode()


def test_cancel_of_a_running_job_asks_it_to_stop(client, users, project, template,
                                                 django_capture_on_commit_callbacks):
    job = _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    GenerationJob.objects.filter(pk=job.pk).update(status="running")  # as a worker would
    client.force_login(users["creator"])
    response = client.post(reverse("portal:job_cancel", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cancellation requested" in html and 'hx-trigger="every 1s"' in html
    job.refresh_from_db()
    assert job.status == "running" and job.cancel_requested


def test_reviewer_cannot_cancel(client, users, project, template,
                                django_capture_on_commit_callbacks):
    job = _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    client.force_login(users["reviewer"])
    assert client.post(reverse("portal:job_cancel", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == "queued"


# -- assets --------------------------------------------------------------------------------
def test_asset_content_returns_the_exact_bytes_to_a_member_only(
        client, users, project, template, django_capture_on_commit_callbacks):
    job = _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    run_job(str(job.pk), worker="test")
    asset = Asset.objects.get(job=job)
    url = reverse("portal:asset_content", args=[asset.pk])

    client.force_login(users["reviewer"])
    response = client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body == asset.read_bytes()
    assert response["Content-Type"] == asset.media_type
    assert response["X-Content-SHA256"] == asset.sha256

    client.force_login(users["outsider"])
    assert client.get(url).status_code == 404


def test_image_asset_is_streamed_from_its_file_and_shown_as_img(
        client, users, project, template, django_capture_on_commit_callbacks):
    from assay.generation.storage import store_outputs
    from assay.plugins.contracts import GeneratedOutput

    job = _queued_job(users["creator"], project, template, django_capture_on_commit_callbacks)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    [asset] = store_outputs(job, [GeneratedOutput(kind="image", media_type="image/png",
                                                  data=png, width=8, height=8)])
    GenerationJob.objects.filter(pk=job.pk).update(status="succeeded", progress=100)

    client.force_login(users["creator"])
    html = client.get(reverse("portal:job", args=[job.pk])).content.decode()
    url = reverse("portal:asset_content", args=[asset.pk])
    assert f'<img src="{url}"' in html and "/media/" not in html
    response = client.get(url)
    assert response.streaming and b"".join(response.streaming_content) == png


def test_the_form_says_plainly_when_a_demo_image_model_would_run(client, users, project,
                                                                demo_models):
    from assay.generation.registry import register_model
    from tests.conftest import make_template

    shot = make_template(project, users["owner"], slug="shot", generator="image-diffusers",
                         text="a photo of {{ product }}")
    register_model(name="assay-demo-image", generator_id="image-diffusers",
                   source=str(demo_models / "demo-image"), license="demo", all_projects=True)
    client.force_login(users["creator"])
    page = client.get(f"/projects/{project.slug}/generate/?version={shot.latest_version().pk}")
    assert page.status_code == 200
    assert "Demo image models produce noise until a real model is registered" in \
        page.content.decode()
    register_model(name="real-image", generator_id="image-diffusers", source="org/sd-turbo",
                   revision="abc", license="openrail", all_projects=True, is_default=True)
    page = client.get(f"/projects/{project.slug}/generate/?version={shot.latest_version().pk}")
    assert "produce noise" not in page.content.decode()
