"""The generation form in a real browser, as a creator uses it: words on screen, settings
folded away, switching generator, variants side by side, image then image-to-image, every
error at once with focus on the first, values that survive Back, quotas in a sentence.

Headless Chromium from the Debian package (see tests/portal/conftest.py). Jobs run in this
process on a background thread (``run_in_background``); no broker is involved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from governance.usage.services import set_quota
from tests.conftest import make_template
from tests.portal.conftest import JOB_URL, TIMEOUT_MS, run_in_background, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Raw parameter names, generator ids and hashes: never on screen outside the folds.
RAW = re.compile(r"\b(num_variants|step_seconds|as_file|max_new_tokens|top_p|top_k|num_images|"
                 r"repetition_penalty|dummy-echo|text-transformers|image-diffusers)\b"
                 r"|[0-9a-f]{64}")
SLOW_MS = 120_000  # the first image job imports diffusers and loads the demo pipeline


def _visible(page: Any) -> str:
    """What a person reads: innerText leaves out closed folds and hidden inputs."""
    return page.locator("main").inner_text()


def _open_form(page: Any, base: str, project: Any, query: str = "") -> None:
    sign_in(page, base, "cara")
    page.goto(f"{base}/projects/{project.slug}/generate/{query}")


def _wait_for_job(page: Any, timeout: int = 30_000) -> GenerationJob:
    from playwright.sync_api import expect

    page.wait_for_url(JOB_URL)
    job_id = JOB_URL.match(page.url).group(1)
    worker = run_in_background(job_id)
    expect(page.locator("#job-status-badge")).to_have_text("Succeeded", timeout=timeout)
    worker.join(timeout=30)
    return GenerationJob.objects.get(pk=job_id)


@pytest.fixture
def page_without_bfcache(browser: Any) -> Iterator[Any]:
    """A page in a second Chromium that keeps no page whole for Back, so returning to the
    form re-renders it from the server: the harder case for keeping typed values."""
    other = browser.browser_type.launch(executable_path="/usr/bin/chromium", args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-features=BackForwardCache", "--no-first-run"])
    context = other.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()
    other.close()


def test_the_form_shows_words_until_the_advanced_fold_is_opened(page, live_server, users,
                                                                project, no_broker):
    make_template(project, users["owner"])
    _open_form(page, live_server.url, project)
    text = _visible(page)
    assert not RAW.search(text), RAW.search(text)
    assert "Number of variants" in text and "Advanced settings" in text
    assert page.get_by_label("Number of variants").is_visible()
    assert not page.locator("[name=param__step_seconds]").is_visible()
    assert not page.locator("[name=seed]").is_visible()
    option = page.get_by_label("Generator").locator("option:checked").inner_text()
    assert option == "Test generator: echoes the prompt"

    page.screenshot(path="/tmp/assay-generate.png", full_page=True)
    page.get_by_text("Advanced settings").click()
    assert page.locator("[name=param__step_seconds]").is_visible()
    assert page.locator("[name=seed]").is_visible()
    opened = _visible(page)
    assert "step_seconds" in opened and "num_variants" in opened  # names for API users
    assert "dummy-echo" not in opened  # the generator id stays behind its own Details
    page.locator(".generator-details > summary").click()
    assert "dummy-echo" in _visible(page)


def test_creator_generates_two_text_variants_and_sees_them_side_by_side(
        page, live_server, users, project, no_broker):
    from playwright.sync_api import expect

    make_template(project, users["owner"])
    _open_form(page, live_server.url, project)
    page.get_by_label("Product").fill("Rocket Soap")
    page.get_by_label("Number of variants").fill("2")
    page.get_by_role("button", name="Generate").click()
    job = _wait_for_job(page)
    assert job.parameters["num_variants"] == 2

    figures = page.locator(".output-grid figure.output")
    expect(figures).to_have_count(2)
    expect(page.locator("#job-status")).to_contain_text("2 variants, side by side")
    first, second = figures.nth(0).bounding_box(), figures.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 2, (first, second)  # one row
    assert second["x"] >= first["x"] + first["width"] - 1  # next to each other
    texts = [figures.nth(i).locator(".output-text").inner_text() for i in range(2)]
    assert all("Rocket Soap" in t for t in texts) and texts[0] != texts[1]
    settings = page.locator("#request-heading + dl").inner_text()
    assert "Number of variants: 2" in settings and not RAW.search(settings)
    page.screenshot(path="/tmp/assay-variants.png", full_page=True)


def test_switching_generator_shows_its_own_fields_and_submits(page, live_server, users,
                                                              project, no_broker):
    from playwright.sync_api import expect

    make_template(project, users["owner"], steps=20)  # defaults only dummy-echo takes
    _open_form(page, live_server.url, project)
    page.get_by_label("Generator").select_option("text-transformers")
    expect(page.locator("[name=param__max_new_tokens]")).to_have_count(1)
    expect(page.locator("[name=param__steps]")).to_have_count(0)
    assert not RAW.search(_visible(page)), RAW.search(_visible(page))
    assert "-" not in page.get_by_label("Generator").locator("option:checked").inner_text()
    page.get_by_label("Product").fill("Rocket Soap")
    page.get_by_role("button", name="Generate").click()

    page.wait_for_url(JOB_URL)
    job = GenerationJob.objects.get()
    assert job.generator_id == "text-transformers" and "steps" not in job.parameters
    assert no_broker == [job.pk]


def test_every_error_is_shown_at_once_and_focus_moves_to_the_first(page, live_server, users,
                                                                   project, no_broker):
    from playwright.sync_api import expect

    make_template(project, users["owner"])
    _open_form(page, live_server.url, project)
    page.get_by_label("Audience").fill("cooks")
    page.get_by_label("Number of variants").fill("9")
    page.get_by_text("Advanced settings").click()
    page.get_by_label("Seconds per step").fill("99")
    page.get_by_text("Advanced settings").click()  # folded again before submitting
    page.get_by_role("button", name="Generate").click()

    expect(page.locator("#error-summary li")).to_have_count(3)
    expect(page.locator(".has-error")).to_have_count(3)
    expect(page.locator("#error-summary")).to_contain_text("Fix these 3 things")
    assert page.evaluate("document.activeElement.id") == "id_var__product"
    page.screenshot(path="/tmp/assay-errors.png", full_page=True)
    assert page.locator("#advanced-settings").get_attribute("open") is not None
    expect(page.get_by_label("Audience")).to_have_value("cooks")  # values kept
    expect(page.get_by_label("Seconds per step")).to_have_value("99")
    assert GenerationJob.objects.count() == 0

    # Only a folded setting wrong: the fold opens and focus goes to it.
    page.get_by_label("Product").fill("Soap")
    page.get_by_label("Number of variants").fill("2")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".has-error")).to_have_count(1)
    assert page.evaluate("document.activeElement.id") == "id_param__step_seconds"
    assert page.get_by_label("Seconds per step").is_visible()


def test_values_survive_back_including_the_swapped_generator_fields(
        page_without_bfcache, live_server, users, project, no_broker):
    from playwright.sync_api import expect

    page = page_without_bfcache
    make_template(project, users["owner"], steps=20)
    _open_form(page, live_server.url, project)
    page.get_by_label("Generator").select_option("text-transformers")
    expect(page.locator("[name=param__max_new_tokens]")).to_have_count(1)
    page.locator("[name=param__max_new_tokens]").fill("33")
    page.get_by_role("button", name="Generate").click()  # no product yet: refused
    expect(page.locator("#error-summary")).to_be_visible()
    page.get_by_label("Product").fill("Rocket Soap")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url(JOB_URL)
    assert GenerationJob.objects.get().parameters["max_new_tokens"] == 33

    page.go_back()
    expect(page.get_by_label("Generator")).to_have_value("text-transformers")
    expect(page.get_by_label("Product")).to_have_value("Rocket Soap")
    expect(page.locator("[name=param__max_new_tokens]")).to_have_value("33")
    assert GenerationJob.objects.count() == 1  # going back never posts again


def test_a_used_up_quota_is_a_sentence_on_the_form(page, live_server, users, project,
                                                   no_broker):
    from playwright.sync_api import expect

    make_template(project, users["owner"])
    set_quota(None, "project", project, "jobs", 1)
    submit_generation(users["creator"], project=project, template="blurb",
                      variables={"product": "Kite"})
    _open_form(page, live_server.url, project)
    page.get_by_label("Product").fill("Rocket Soap")
    page.get_by_role("button", name="Generate").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was queued.")
    expect(alert).to_contain_text("This project has used its 1 generation for")
    expect(alert).to_contain_text("it resets on 1 ")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    expect(page.get_by_label("Product")).to_have_value("Rocket Soap")
    assert GenerationJob.objects.count() == 1


def test_creator_generates_an_image_then_image_to_image_from_it(
        page, live_server, users, project, no_broker, demo_models):
    from playwright.sync_api import expect

    make_template(project, users["owner"])
    shot = make_template(project, users["owner"], slug="shot", generator="image-diffusers",
                         text="a studio photo of {{ product }}")
    version = shot.latest_version()
    _open_form(page, live_server.url, project, f"?prompt_version={version.pk}")
    expect(page.locator("#demo-model-note")).to_contain_text("noise")
    assert not RAW.search(_visible(page)), RAW.search(_visible(page))
    page.get_by_label("Product").fill("Kite")
    page.get_by_role("button", name="Generate").click()
    first = _wait_for_job(page, timeout=SLOW_MS)
    expect(page.locator("#demo-image-note")).to_be_visible()
    image = page.locator(".output img")
    expect(image).to_have_count(1)
    page.wait_for_function("document.querySelector('.output img').naturalWidth > 0")
    parent = Asset.objects.get(job=first)

    page.get_by_role("link", name="Use as starting image").click()
    expect(page.locator("#starting-image img")).to_be_visible()
    page.wait_for_function("document.querySelector('#starting-image img').naturalWidth > 0")
    expect(page.get_by_label("Prompt version")).to_have_value(str(version.pk))
    page.screenshot(path="/tmp/assay-img2img.png", full_page=True)
    assert not RAW.search(_visible(page)), RAW.search(_visible(page))
    expect(page.get_by_label("Product")).to_have_value("Kite")  # what the image was of
    page.get_by_role("button", name="Generate").click()
    second = _wait_for_job(page, timeout=SLOW_MS)
    assert second.parent_asset_id == parent.pk
    expect(page.locator("#request-heading + dl")).to_contain_text("Starting image")
    expect(page.locator(".output img")).to_have_count(1)
