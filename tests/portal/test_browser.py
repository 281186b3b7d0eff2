"""The portal in a real browser: sign in, generate, watch the job finish live over htmx.

Headless Chromium from the Debian package, driven by Playwright's sync API. The job is run
in this process by the real runtime (``run_job``) on a background thread, so the page's
htmx polling is what shows the progress and the output; no broker is involved.
"""

from __future__ import annotations

import re

import pytest

from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from tests.conftest import make_template
from tests.portal.conftest import JOB_URL, SCREENSHOT, run_in_background, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_creator_generates_and_watches_the_job_finish(page, live_server, users, project,
                                                      no_broker):
    from playwright.sync_api import expect

    make_template(project, users["owner"], steps=20, step_seconds=0.05)
    base = live_server.url

    sign_in(page, base, "cara")
    expect(page.get_by_role("banner")).to_contain_text("cara")
    page.get_by_role("link", name="Launch").click()
    expect(page.get_by_role("heading", name="Launch", level=1)).to_be_visible()
    page.get_by_role("link", name="New generation").click()
    expect(page.get_by_label("Prompt version")).to_have_value(
        str(project.prompt_templates.get().latest_version().pk))
    expect(page.get_by_label("steps")).to_have_value("20")  # the version's defaults
    page.get_by_label("product").fill("Rocket Soap")
    page.get_by_role("button", name="Generate").click()

    page.wait_for_url(JOB_URL)
    job_id = JOB_URL.match(page.url).group(1)
    job = GenerationJob.objects.get(pk=job_id)
    assert job.status == "queued" and job.parameters["steps"] == 20
    assert no_broker == [job.pk]
    status = page.locator("#job-status")
    expect(status).to_have_attribute("data-status", "queued")

    # Count htmx swaps and mark the window: the result must arrive without a page reload.
    page.evaluate("""() => {
        window.assaySwaps = 0; window.assayMarker = true;
        document.body.addEventListener('htmx:afterSwap', () => { window.assaySwaps += 1; });
    }""")
    worker = run_in_background(job_id)

    read = """() => {
        const box = document.getElementById('job-status');
        const bar = box.querySelector('[role=progressbar]');
        return [box.dataset.status, Number(bar.getAttribute('aria-valuenow'))];
    }"""
    seen: set[int] = set()
    for _ in range(100):  # sample the bar while it moves (the job takes about a second)
        status_now, value = page.evaluate(read)
        seen.add(value)
        if status_now == "succeeded":
            break
        page.wait_for_timeout(100)
    worker.join(timeout=30)

    expect(page.locator("#job-status-badge")).to_have_text("Succeeded")
    expect(page.locator("#job-status [role=progressbar]")).to_have_attribute(
        "aria-valuenow", "100")
    expect(page.locator(".output-text")).to_contain_text("Write about Rocket Soap for everyone.")
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    assert page.evaluate("window.assayMarker === true"), "the page reloaded instead of swapping"
    assert page.evaluate("window.assaySwaps") >= 1
    assert 0 in seen and 100 in seen, f"progress seen in the page: {sorted(seen)}"
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_bad_input_shows_the_field_error(page, live_server, users, project, no_broker):
    from playwright.sync_api import expect

    make_template(project, users["owner"], slug="blurb")
    tagline = make_template(project, users["owner"], slug="tagline", steps=7)
    base = live_server.url

    sign_in(page, base, "cara")
    page.goto(f"{base}/projects/{project.slug}/generate/")
    expect(page.get_by_label("steps")).to_have_value("1")
    # Choosing another version re-renders its fields through htmx (its default steps is 7).
    page.get_by_label("Prompt version").select_option(str(tagline.latest_version().pk))
    expect(page.get_by_label("steps")).to_have_value("7")
    page.get_by_label("product").fill("")
    page.get_by_role("button", name="Generate").click()

    product = page.locator('[data-field="var__product"]')
    expect(product.locator(".errorlist")).to_contain_text("is required")
    expect(page.get_by_label("product")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Nothing was queued")
    assert GenerationJob.objects.count() == 0 and no_broker == []

    page.get_by_label("product").fill("Soap")
    page.get_by_text("Advanced settings").click()  # steps is folded away with the seed
    page.get_by_label("steps").fill("100000")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator('[data-field="param__steps"] .errorlist')).to_contain_text(
        "must be at most 1000 (got 100000)")
    assert GenerationJob.objects.count() == 0


def test_reviewer_overrides_a_warning_and_approves(page, live_server, users, project,
                                                   no_broker, monkeypatch):
    """Queue → review page (finding highlighted in the text) → reason → Approve."""
    from playwright.sync_api import expect

    from assay.generation.services import submit_generation
    from assay.studio.models import Asset
    from governance.review.checks import run_checks
    from governance.review.models import Review

    monkeypatch.setattr("governance.review.hooks.queue_checks", lambda ids: len(ids))
    make_template(project, users["owner"])
    job = submit_generation(users["creator"], project=project, template="blurb",
                            variables={"product": "the WARNME kettle"})
    assert run_job(str(job.pk), worker="browser-test") == "succeeded"
    run_checks(str(Asset.objects.get(job=job).pk))
    review = Review.objects.get(asset__job=job)
    base = live_server.url

    sign_in(page, base, "rui")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", name="Review queue", level=1)).to_be_visible()
    page.locator("#awaiting-me").get_by_role("link", name=re.compile("WARNME")).click()
    page.wait_for_url(f"{base}/reviews/{review.pk}/")
    expect(page.locator("#review-status")).to_have_text("in review")
    mark = page.locator("#asset-text mark")
    expect(mark).to_have_text("WARNME")
    expect(mark).to_have_attribute("title", "1. WARNME is flagged.")
    expect(page.locator("#finding-1")).to_contain_text("WARNME is flagged")
    # Selecting a word after the finding's marker fills the comment anchor with its offsets.
    page.evaluate("""() => {
        const box = document.getElementById('asset-text');
        const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.data.indexOf('kettle');
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at); range.setEnd(node, at + 6);
            getSelection().removeAllRanges(); getSelection().addRange(range);
            box.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }
    }""")
    at = review.asset.text.index("kettle")
    expect(page.get_by_label("From character")).to_have_value(str(at))
    expect(page.get_by_label("To character")).to_have_value(str(at + 6))

    page.get_by_role("button", name="Approve").click()  # no reason yet: refused, kept on page
    expect(page.get_by_role("alert")).to_contain_text("Write a reason for approving past")
    page.get_by_label("Why approve past “Dummy words”?").fill(
        "The kettle's product name really is WARNME.")
    page.get_by_label("Decision comment").fill("Checked with the product team.")
    page.get_by_role("button", name="Approve").click()

    expect(page.locator("#review-status")).to_have_text("approved")
    expect(page.get_by_role("status")).to_contain_text("Approved. The asset is being signed")
    expect(page.locator("#decide")).to_contain_text("nothing is left to decide")
    review.refresh_from_db()
    assert review.status == "approved"
    assert review.decisions.get().overrides == [
        {"check_id": "dummy-words", "reason": "The kettle's product name really is WARNME."}]
    page.screenshot(path="/tmp/assay-review.png", full_page=True)
