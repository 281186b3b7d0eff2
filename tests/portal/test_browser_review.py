"""The editor's review page in a real browser: words not codes, approve past a warning with a
reason, request changes, mark an area of an image with the mouse, compare versions.

Headless Chromium (Debian package) driven by Playwright; reviews are built directly (an
asset, its check results, the review opened through the review policy), so no job runs.
"""

from __future__ import annotations

import pytest

from governance.review import workflow
from governance.review.models import Comment
from tests.portal.conftest import sign_in
from tests.portal.review_helpers import RAW, image_asset, open_review, result, text_asset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_signing(monkeypatch):
    """Approval queues signing after commit; nothing here needs it sent anywhere."""
    monkeypatch.setattr("governance.review.policy.announce_approval",
                        lambda review, correlation_id="": None)


def test_editor_approves_past_a_warning_with_a_reason(page, live_server, users, project):
    from playwright.sync_api import expect

    text = "Our cheap kettle boils in 3 minutes."
    asset = text_asset(project, users["creator"], text)
    at = text.index("cheap")
    result(asset, "banned-terms", "warn", [{"message": "“cheap” is banned", "span": [at, at + 5],
            "data": {"term": "cheap", "matched": "cheap", "alternatives": ["affordable"]}}],
           summary="1 banned term found: cheap")
    result(asset, "factuality", "pass", [{"message": "Supported: …", "span": [0, len(text)],
            "data": {"claim": text, "verdict": "supported", "status": "pass",
                     "fact": "The kettle boils in 3 minutes.", "fact_id": "3",
                     "similarity": 0.91}}], severity="info")
    review = open_review(asset, users["creator"])
    base = live_server.url

    sign_in(page, base, "rui")
    page.goto(f"{base}/reviews/{review.pk}/")
    findings = page.locator(".review-findings")
    expect(findings).to_contain_text("“cheap” is a banned term; try “affordable”.")
    expect(findings).to_contain_text("matches the approved fact “The kettle boils in 3 minutes.”")
    supported = page.locator(".finding").filter(has_text="matches the approved fact")
    expect(supported.locator(".badge")).to_have_text("Passed")
    # Raw fields are folded away: not in the text a person reads until they open Details.
    seen = page.locator("main").inner_text()
    assert not RAW.search(seen), RAW.search(seen)
    supported.get_by_text("Details").click()
    expect(supported.locator("details")).to_contain_text("similarity")

    page.get_by_role("button", name="Approve").click()  # no reason yet: refused, kept on page
    expect(page.get_by_role("alert")).to_contain_text(
        "Write a reason for approving past “Banned terms”")
    assert not RAW.search(page.locator("main").inner_text())
    page.get_by_label("Why approve past “Banned terms”?").fill("Cheap is the product's name.")
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("status")).to_contain_text("Approved. The asset is being signed")
    expect(page.locator("#review-status")).to_have_text("approved")
    expect(page.locator(".decisions")).to_contain_text(
        "Approved past “Banned terms”: Cheap is the product's name.")
    assert not RAW.search(page.locator("main").inner_text())
    review.refresh_from_db()
    assert review.status == "approved"


def test_editor_requests_changes(page, live_server, users, project):
    from playwright.sync_api import expect

    review = open_review(text_asset(project, users["creator"], "Kettles for all."),
                         users["creator"])
    base = live_server.url
    sign_in(page, base, "rui")
    page.goto(f"{base}/reviews/{review.pk}/")
    page.get_by_role("button", name="Request changes").click()
    expect(page.locator("#id_comment_error")).to_contain_text("Say why")
    page.get_by_label("Decision comment").fill("Name the kettle.")
    page.get_by_role("button", name="Request changes").click()
    expect(page.get_by_role("status")).to_contain_text("Changes requested.")
    expect(page.locator("#review-status")).to_have_text("changes requested")
    expect(page.locator(".decisions")).to_contain_text("asked for changes")


def test_editor_marks_an_area_of_the_image_and_comments(page, live_server, users, project):
    from playwright.sync_api import expect

    asset = image_asset(project, users["creator"], width=400, height=300)
    result(asset, "min-resolution", "warn", [{"message": "small", "region": [0, 0, 100, 100],
            "data": {"width": 400, "height": 300, "min_width": 512, "min_height": 512}}])
    review = open_review(asset, users["creator"])
    base = live_server.url
    sign_in(page, base, "rui")
    page.goto(f"{base}/reviews/{review.pk}/")
    image = page.locator("#image-frame img")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('#image-frame img').complete")
    # The finding's box is placed over the image by sizes.js.
    finding_box = page.locator("#image-frame a.region-box", has_text="1")
    expect(finding_box).to_be_visible()

    box = image.bounding_box()
    scale = box["width"] / 400
    page.mouse.move(box["x"] + 100 * scale, box["y"] + 60 * scale)
    page.mouse.down()
    page.mouse.move(box["x"] + 200 * scale, box["y"] + 120 * scale, steps=5)
    expect(page.locator(".region-draft")).to_be_visible()
    page.mouse.move(box["x"] + 300 * scale, box["y"] + 210 * scale, steps=5)
    page.mouse.up()

    values = [int(page.get_by_label(label).input_value()) for label in (
        "From the left (pixels)", "From the top (pixels)", "Width (pixels)",
        "Height (pixels)")]
    for got, want in zip(values, (100, 60, 200, 150), strict=True):
        assert abs(got - want) <= 2, values
    expect(page.get_by_label("Your comment")).to_be_focused()
    expect(page.locator("#region-summary")).to_contain_text("Area marked")
    page.keyboard.type("Move the logo out of this corner.")
    page.get_by_role("button", name="Add comment").click()

    expect(page.get_by_role("status")).to_contain_text("Comment added.")
    comment = Comment.objects.get()
    assert comment.region == values and comment.body == "Move the logo out of this corner."
    drawn = page.locator("#image-frame a.region-comment")
    expect(drawn).to_have_text("C1")
    expect(drawn).to_be_visible()
    placed = drawn.bounding_box()
    image_box = image.bounding_box()
    assert abs(placed["x"] - (image_box["x"] + values[0] * image_box["width"] / 400)) < 4
    assert abs(placed["width"] - values[2] * image_box["width"] / 400) < 4
    expect(page.locator(f"#comment-{comment.pk}")).to_contain_text("on the area marked C1")
    assert not RAW.search(page.locator("main").inner_text())


def test_editor_compares_versions_and_follows_the_newest(page, live_server, users, project):
    from playwright.sync_api import expect

    old = text_asset(project, users["creator"], "The Kite kettle boils in 3 minutes.")
    first = open_review(old, users["creator"])
    new = workflow.revise_text(users["creator"], old, text="The Kite kettle boils in 2 minutes.")
    second = open_review(new, users["creator"])
    base = live_server.url
    sign_in(page, base, "rui")

    page.goto(f"{base}/reviews/{first.pk}/")
    expect(page.locator("#newer-version")).to_contain_text(
        "A newer version of this asset is in review.")
    page.get_by_role("link", name="Open the review of the newest version").click()
    page.wait_for_url(f"{base}/reviews/{second.pk}/")
    section = page.locator("#compare")
    expect(section.get_by_role("heading")).to_have_text("Compare with the previous version")
    expect(section.locator(".compare-text del")).to_have_text("3")
    expect(section.locator(".compare-text ins")).to_have_text("2")
    assert not RAW.search(page.locator("main").inner_text())
