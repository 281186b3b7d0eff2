"""The review page reads like a colleague: findings as sentences, statuses and refusals in
words, raw fields only behind "Details"; image regions, version compare, superseded links
and decision messages (portal and REST, through the same services)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from assay.portal.findings import check_name, findings, sentence, status_word
from governance.review import brand, workflow
from governance.review.models import Comment, Review
from tests.conftest import generate_checked
from tests.portal.review_helpers import (
    RAW,
    image_asset,
    open_review,
    result,
    text_asset,
    visible_text,
)

pytestmark = pytest.mark.django_db


def page(client: Any, review: Review) -> str:
    response = client.get(reverse("portal:review", args=[review.pk]))
    assert response.status_code == 200
    return response.content.decode()


def decide(client: Any, review: Review, decision: str = "approve", **fields: str) -> Any:
    data = {"decision": decision, "content_sha256": review.asset.sha256, **fields}
    return client.post(reverse("portal:review_decide", args=[review.pk]), data, follow=True)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# -- sentences per check kind (no database) -------------------------------------------------

@pytest.mark.parametrize(("check", "data", "quote", "status", "expected"), [
    ("factuality", {"verdict": "supported", "claim": "24-hour battery",
                    "fact": "The battery lasts 24 hours."}, "", "pass",
     "“24-hour battery” matches the approved fact “The battery lasts 24 hours.”"),
    ("factuality", {"verdict": "contradicted", "claim": "Returns within 30 days.",
                    "reason": "says 30 days; the approved fact says 14 days",
                    "fact": "Returns within 14 days."}, "", "fail",
     "The text says 30 days, the approved fact says 14 days."),
    ("factuality", {"verdict": "contradicted", "claim": "x", "fact": "y",
                    "reason": "says 40% faster; the approved fact says 30% faster "
                              "(fact speed said so until 2024-06-30)"}, "", "fail",
     "The text says 40% faster, the approved fact says 30% faster. An approved fact said "
     "this until 2024-06-30."),
    ("factuality", {"verdict": "unsupported", "claim": "It is the best.",
                    "reason": "“best” is a superlative no approved fact makes"}, "", "warn",
     "No approved fact backs “It is the best.”: “best” is a superlative no approved fact "
     "makes."),
    ("factuality", {"verdict": "unsupported", "claim": "It is 40% faster.",
                    "reason": "no approved fact gives 40% faster"}, "", "warn",
     "No approved fact gives 40% faster (in “It is 40% faster.”)."),
    ("banned-terms", {"term": "cheap", "matched": "cheap", "alternatives": ["affordable"]},
     "cheap", "fail", "“cheap” is a banned term; try “affordable”."),
    ("banned-terms", {"term": "cheap", "matched": "cheaper", "alternatives": []},
     "cheaper", "fail", "“cheaper” is a form of the banned term “cheap”; rephrase it."),
    ("personal-data", {"kind": "email", "role_address": False}, "ann@example.com", "fail",
     "Contains what looks like an e-mail address."),
    ("personal-data", {"kind": "phone", "role_address": False}, "+44 20", "fail",
     "Contains what looks like a phone number."),
    ("personal-data", {"kind": "email", "role_address": True}, "hello@x.com", "warn",
     "Contains a shared e-mail address (such as hello@…); check it is meant to be "
     "published."),
    ("required-disclaimers", {"trigger": "price", "disclaimer": "Prices include VAT.",
                              "occurrences": 1, "spans": [[3, 6]]}, "$12", "fail",
     "“$12” needs the disclaimer “Prices include VAT.”, which is missing."),
    ("profanity", {"term": "damn", "tier": "mild"}, "Damn", "warn", "“Damn” is mild profanity."),
    ("length-readability", {"words": 12, "min_words": 50}, "", "warn",
     "The text has 12 words; the target is at least 50."),
    ("length-readability", {"grade": 14.2, "max_grade": 9}, "", "warn",
     "The text is harder to read than the target (grade 14.2, at most 9 wanted); the longest "
     "sentence is marked."),
    ("min-resolution", {"width": 64, "height": 64, "min_width": 256, "min_height": 256}, "",
     "fail", "The image is 64×64 pixels; the project needs at least 256×256."),
    ("blank-image", {"std_dev": 0.0}, "", "fail", "The image is blank or almost a single colour."),
    ("blank-image", {"std_dev": 3.0}, "", "warn",
     "The image has very little detail; check it shows what was asked for."),
    ("near-duplicate", {"asset_id": "abc", "distance": 2}, "", "warn",
     "The image looks almost the same as an image already approved in this project."),
    ("some-new-check", {"x": 1}, "", "warn", "Logo is tiny."),
])
def test_each_check_kind_reads_as_a_sentence(check, data, quote, status, expected):
    assert sentence(check, data, quote, status, "logo is tiny") == expected


def test_evidence_in_an_unexpected_shape_falls_back_to_the_message():
    assert sentence("banned-terms", {"term": 5, "alternatives": 7}, "", "fail",
                    "bad word") == "Bad word."
    assert sentence("personal-data", {}, "", "fail", "") == "The check points here."


def test_names_and_statuses_are_words():
    assert check_name("banned-terms") == "Banned terms"
    assert check_name("brand-voice_tone") == "Brand voice tone"
    assert [status_word(s) for s in ("pass", "warn", "fail")] == [
        "Passed", "Needs a look", "Failed"]


class _Result:
    def __init__(self, check_id: str, status: str, evidence: list[dict[str, Any]]) -> None:
        self.check_id, self.status, self.severity, self.evidence = (
            check_id, status, "medium", evidence)


def test_a_supported_claim_passes_inside_a_check_that_warns():
    text = "Fast. Cheap."
    items = findings([_Result("factuality", "warn", [
        {"message": "Supported: …", "span": [0, 5], "data": {"verdict": "supported"}},
        {"message": "Unsupported: …", "span": [6, 12],
         "data": {"verdict": "unsupported", "status": "warn"}},
        {"message": "old result", "span": [6, 12], "data": {"status": "pass"}}])], text, None,
        None)
    assert [(f.number, f.status) for f in items] == [(1, "pass"), (2, "warn"), (3, "pass")]


# -- the page -------------------------------------------------------------------------------

def test_the_page_shows_sentences_and_keeps_raw_fields_in_details(client, users, project):
    text = "The battery lasts 24 hours. It is cheap. Mail ann@example.com today."
    asset = text_asset(project, users["creator"], text)
    result(asset, "factuality", "warn", [
        {"message": "Supported: matches", "span": [0, 27], "data": {
            "claim": text[:27], "verdict": "supported", "status": "pass",
            "fact": "The battery lasts 24 hours.", "fact_id": "7", "closest_fact_id": "7",
            "similarity": 0.825, "source": "https://example.com/spec"}},
        {"message": "Unsupported", "span": [28, 40], "data": {
            "claim": "It is cheap.", "verdict": "unsupported", "status": "warn",
            "reason": "no approved fact says this about this", "fact_id": None,
            "similarity": 0.31}}], severity="medium")
    result(asset, "banned-terms", "fail", [
        {"message": "“cheap” is banned", "span": [34, 39],
         "data": {"term": "cheap", "matched": "cheap", "alternatives": ["affordable"]}}])
    result(asset, "personal-data", "fail", [
        {"message": "email address ending example.com", "span": [46, 61],
         "data": {"kind": "email", "role_address": False}}])
    review = open_review(asset, users["creator"])
    client.force_login(users["reviewer"])
    html = page(client, review)
    seen = visible_text(html)
    assert "“The battery lasts 24 hours.” matches the approved fact “The battery lasts 24 " \
           "hours.”" in seen
    assert "“cheap” is a banned term; try “affordable”." in seen
    assert "Contains what looks like an e-mail address." in seen
    assert not RAW.search(seen), RAW.search(seen)
    # … but the raw fields are there for whoever opens Details.
    assert "closest_fact_id" in html and "0.825" in html and "<code>factuality</code>" in html
    # The supported claim passes; the check as a whole still needs a look.
    supported = re.search(r'<li class="finding finding-(\w+)" id="finding-1">(.*?)</li>', html,
                          re.S)
    assert supported and supported.group(1) == "pass"
    assert '<span class="badge badge-check-pass">Passed</span>' in supported.group(2)
    row = re.search(r'<tr data-check="factuality">(.*?)</tr>', html, re.S).group(1)
    assert "Approved facts" in row and "Needs a look" in row
    assert '<mark class="ev ev-pass"' in html


def test_the_review_page_query_count(client, users, project, django_assert_max_num_queries):
    asset = text_asset(project, users["creator"], "Cheap kites for everyone.")
    result(asset, "banned-terms", "fail", [{"message": "x", "span": [0, 5], "data": {
        "term": "cheap", "matched": "Cheap", "alternatives": []}}])
    review = open_review(asset, users["creator"])
    workflow.add_comment(users["reviewer"], review, body="hm", span=[0, 5])
    client.force_login(users["reviewer"])
    page(client, review)  # warm the session and caches
    # Session, user, review (+ asset, project, people), results twice (the page's and the
    # policy's blockers), decision facts (3), comments, role, decisions, inbox badge.
    with django_assert_max_num_queries(12):
        page(client, review)


# -- decisions and refusals in words --------------------------------------------------------

def test_approving_past_a_warning_in_words(client, users, project, template,
                                           django_capture_on_commit_callbacks):
    asset = generate_checked(users["creator"], project, django_capture_on_commit_callbacks,
                             "WARNME")
    review = Review.objects.get(asset=asset)
    client.force_login(users["reviewer"])
    refused = decide(client, review)
    assert refused.status_code == 400
    seen = visible_text(refused.content.decode())
    assert "Write a reason for approving past “Dummy words”" in seen
    assert not RAW.search(seen), RAW.search(seen)

    done = decide(client, review, **{"override_dummy-words": "WARNME is the product name"})
    seen = visible_text(done.content.decode())
    assert "Approved. The asset is being signed" in seen
    assert "Approved past “Dummy words”: WARNME is the product name" in seen
    assert not RAW.search(seen), RAW.search(seen)


def test_two_stage_approval_says_what_comes_next(client, users, project, template,
                                                 django_capture_on_commit_callbacks):
    brand.update_policy(users["owner"], project, {"stages": [
        {"name": "brand", "approvals_required": 1, "roles": ["reviewer", "owner"]},
        {"name": "legal", "approvals_required": 1, "roles": ["reviewer", "owner"]}]})
    asset = generate_checked(users["creator"], project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    client.force_login(users["reviewer"])
    seen = visible_text(decide(client, review).content.decode())
    assert "Your approval is recorded; it now waits for stage 2 (Legal)." in seen
    assert "The review is now in review" not in seen
    # The refusal for the second stage is a sentence, its codes only in Details.
    refused = client.post(reverse("portal:review_decide", args=[review.pk]),
                          {"decision": "approve", "content_sha256": asset.sha256})
    assert refused.status_code == 403
    seen = visible_text(refused.content.decode())
    assert "You approved an earlier stage of this asset" in seen
    assert not RAW.search(seen) and "second stage" not in seen


def test_request_changes_reject_and_self_review_in_words(client, users, project, template,
                                                         django_capture_on_commit_callbacks):
    first = Review.objects.get(asset=generate_checked(
        users["creator"], project, django_capture_on_commit_callbacks))
    second = Review.objects.get(asset=generate_checked(
        users["creator"], project, django_capture_on_commit_callbacks, "Comet"))
    client.force_login(users["reviewer"])
    seen = visible_text(decide(client, first, "request_changes", comment="Shorter").content
                        .decode())
    assert "Changes requested. The creator is told what to change" in seen
    seen = visible_text(decide(client, second, "reject", comment="Off brand").content.decode())
    assert "Rejected. The creator is told your reason" in seen

    mine = Review.objects.get(asset=generate_checked(
        users["owner"], project, django_capture_on_commit_callbacks, "Nova"))
    client.force_login(users["owner"])
    refused = client.post(reverse("portal:review_decide", args=[mine.pk]),
                          {"decision": "approve", "content_sha256": mine.asset.sha256})
    assert refused.status_code == 403
    seen = visible_text(refused.content.decode())
    assert "another reviewer must decide on it" in seen
    assert "self-review" not in seen and "reviewer:" not in seen
    assert "self-review" in refused.content.decode()  # kept for Details


# -- image regions: portal and REST ---------------------------------------------------------

def test_a_region_comment_through_the_portal(client, users, project):
    asset = image_asset(project, users["creator"], width=400, height=300)
    result(asset, "logo", "fail", [{"message": "logo is tiny", "region": [20, 10, 40, 50]}])
    review = open_review(asset, users["creator"])
    client.force_login(users["reviewer"])
    url = reverse("portal:review_comment", args=[review.pk])

    for bad in (["390", "0", "20", "20"], ["0", "0", "0", "5"], ["a", "0", "5", "5"],
                ["0", "0", "5", ""]):
        refused = client.post(url, dict(zip(("region_x", "region_y", "region_w", "region_h"),
                                            bad, strict=True), body="here"))
        assert refused.status_code == 400, bad
        seen = visible_text(refused.content.decode())
        assert "Mark an area inside the image" in seen and "[x, y" not in seen
    assert not Comment.objects.exists()

    done = client.post(url, {"body": "Move the logo", "region_x": "100", "region_y": "50",
                             "region_w": "200", "region_h": "150"})
    assert done.status_code == 302
    assert Comment.objects.get().region == [100, 50, 200, 150]
    html = page(client, review)
    # Both the finding and the comment are drawn as numbered boxes (sizes.js places them).
    assert 'data-region="left:5.00%;top:3.33%;width:10.00%;height:16.67%"' in html
    assert 'data-region="left:25.00%;top:16.67%;width:50.00%;height:50.00%"' in html
    assert ">C1</a>" in html and 'href="#finding-1"' in html
    assert "on the area marked C1 on the image" in visible_text(html)
    assert 'src="/static/portal/annotate.js' in html or "portal/annotate" in html


def test_a_region_on_a_text_asset_is_refused_in_words(client, users, project):
    review = open_review(text_asset(project, users["creator"], "Hello there."),
                         users["creator"])
    client.force_login(users["reviewer"])
    refused = client.post(reverse("portal:review_comment", args=[review.pk]), {
        "body": "x", "region_x": "0", "region_y": "0", "region_w": "5", "region_h": "5"})
    assert refused.status_code == 400
    assert "Mark an area inside the image" in visible_text(refused.content.decode())


def test_a_region_comment_over_rest_and_in_the_schema(users, project):
    asset = image_asset(project, users["creator"], width=400, height=300)
    review = open_review(asset, users["creator"])
    url = f"/api/v1/reviews/{review.pk}/comments/"
    client = api(users["reviewer"])
    made = client.post(url, {"body": "Logo", "region": [10, 20, 30, 40]}, format="json")
    assert made.status_code == 201 and made.json()["region"] == [10, 20, 30, 40]
    assert made.json()["span"] is None
    outside = client.post(url, {"body": "x", "region": [390, 0, 20, 20]}, format="json")
    assert outside.status_code == 400
    assert "inside the 400×300 image" in outside.json()["detail"]
    short = client.post(url, {"body": "x", "region": [1, 2, 3]}, format="json")
    assert short.status_code == 400 and short.json()["detail"]
    negative = client.post(url, {"body": "x", "region": [-1, 0, 5, 5]}, format="json")
    assert negative.status_code == 400
    assert Comment.objects.count() == 1
    listed = client.get(f"/api/v1/reviews/{review.pk}/").json()
    assert listed["comments"][0]["region"] == [10, 20, 30, 40]

    schema = api(users["reviewer"]).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    components = schema.json()["components"]["schemas"]
    assert components["CommentInputRequest"]["properties"]["region"]["maxItems"] == 4
    assert components["Comment"]["properties"]["region"]["type"] == "array"


# -- versions -------------------------------------------------------------------------------

def test_compare_and_the_link_from_a_superseded_review(client, users, project,
                                                       django_assert_max_num_queries):
    old = text_asset(project, users["creator"], "The Kite kettle boils in 3 minutes.")
    first = open_review(old, users["creator"])
    client.force_login(users["reviewer"])
    assert "Compare with the previous version" not in page(client, first)

    new = workflow.revise_text(users["creator"], old,
                               text="The Kite kettle boils in 2 minutes.")
    second = open_review(new, users["creator"])
    first.refresh_from_db()
    assert first.status == "superseded"

    with django_assert_max_num_queries(15):  # + the newest version (2) and its review
        html = page(client, first)
    seen = visible_text(html)
    assert "A newer version of this asset is in review." in seen
    assert f'href="{reverse("portal:review", args=[second.pk])}" id="newer-review-link"' in html

    with django_assert_max_num_queries(12):  # the parent comes with the review's row
        html = page(client, second)
    assert "Compare with the previous version" in html
    assert "<del>3</del><ins>2</ins>" in html.replace("\n", "")
    assert "A newer version" not in html
