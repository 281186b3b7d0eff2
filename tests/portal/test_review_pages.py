"""The review screens through Django's test client: queue, page, decisions and comments.

Assets reach review the real way: a job run by ``run_job``, then ``run_checks``. The test
plugin's ``dummy-words`` check flags BLOCKME (fail/critical), FAILLOW (fail/low) and
WARNME (warn/low) with the word's span as evidence.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from assay.audit.models import AuditEvent
from assay.studio.models import Asset
from governance.review import workflow
from governance.review.models import CheckResult, Comment, Decision, Review
from tests.conftest import generate_checked

pytestmark = pytest.mark.django_db


def in_review(user: Any, project: Any, capture: Any, product: str = "Kite") -> Review:
    """Generate as ``user``, run the checks, and return the review they opened."""
    asset = generate_checked(user, project, capture, product)
    return Review.objects.select_related("asset").get(asset=asset)


def page(client: Any, review: Review) -> str:
    response = client.get(reverse("portal:review", args=[review.pk]))
    assert response.status_code == 200
    return response.content.decode()


def decide(client: Any, review: Review, decision: str = "approve", **fields: str) -> Any:
    data = {"decision": decision, "content_sha256": review.asset.sha256, **fields}
    return client.post(reverse("portal:review_decide", args=[review.pk]), data)


def section(html: str, element_id: str) -> str:
    """The markup of the element with this id, up to the end of its section."""
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</section>", start)]


def test_queue_lists_the_asset_for_the_reviewer_not_for_its_creator(
        client, users, project, template, django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks)
    link = f'href="{reverse("portal:review", args=[review.pk])}"'

    client.force_login(users["reviewer"])
    html = client.get(reverse("portal:reviews")).content.decode()
    assert f'href="{reverse("portal:reviews")}">Review queue</a>' in html  # header nav
    waiting = section(html, "waiting-heading")
    assert link in waiting and "Write about Kite for everyone." in waiting
    assert '<span class="badge" id="waiting-count">1</span>' in waiting
    assert "No decisions yet." in html

    client.force_login(users["creator"])
    html = client.get(reverse("portal:reviews")).content.decode()
    assert link not in html and "Nothing is waiting for you." in html

    # The creator's job page links to the review with its status.
    job_page = client.get(reverse("portal:job", args=[review.asset.job_id])).content.decode()
    assert f'<a {link} class="review-link">Review: in review</a>' in job_page


def test_review_page_is_404_for_an_outsider(client, users, project, template,
                                            django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["outsider"])
    assert client.get(reverse("portal:review", args=[review.pk])).status_code == 404
    assert decide(client, review).status_code == 404
    assert not review.decisions.exists()


def test_evidence_span_is_highlighted_in_place_and_the_text_escaped(
        client, users, project, template, django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks,
                       product="<b>WARNME</b>")
    client.force_login(users["reviewer"])
    html = page(client, review)
    text = section(html, "asset-heading")
    marks = re.findall(r"<mark [^>]*>(.*?)</mark>", text, re.S)
    assert marks == ["WARNME"]
    assert ('<mark class="ev ev-warn" title="1. WARNME is flagged." '
            'data-findings="1">WARNME</mark><sup class="ev-marker"><a href="#finding-1"'
            in text)
    assert "Write about &lt;b&gt;<mark" in text and "<b>" not in text  # user text escaped
    finding = re.search(r'<li class="finding finding-warn" id="finding-1">(.*?)</li>', text,
                        re.S)
    assert finding and "WARNME is flagged" in finding.group(1)
    at = review.asset.text.index("WARNME")
    assert f"characters {at}–{at + 6}" in finding.group(1)
    checks = section(html, "checks-heading")
    assert '<span class="badge badge-check-warn">Needs a look</span>' in checks
    assert "Found WARNME" in checks and "needs a reason" in checks


def test_approving_past_a_warning_needs_a_reason(client, users, project, template,
                                                 django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks,
                       product="WARNME")
    client.force_login(users["reviewer"])
    assert 'name="override_dummy-words"' in page(client, review)

    refused = decide(client, review, **{"override_dummy-words": "  "})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Approving past dummy-words needs a written reason" in html
    field = section(html, "decide-heading")
    assert 'aria-invalid="true" aria-describedby="id_override_dummy-words_error"' in field
    assert "a reason is required" in field
    assert not Decision.objects.exists()

    done = decide(client, review, comment="fine",
                  **{"override_dummy-words": "The product is really called WARNME"})
    assert done.status_code == 302
    review.refresh_from_db()
    assert review.status == "approved"
    event = AuditEvent.objects.get(action="review.check.overridden")
    assert event.reason == "The product is really called WARNME"
    html = client.get(done["Location"]).content.decode()
    assert '<span class="badge badge-approved" id="review-status">approved</span>' in html
    assert "Approved past “Dummy words”: The product is really called WARNME" in html
    queue = client.get(reverse("portal:reviews")).content.decode()
    assert "Nothing is waiting for you." in queue
    assert reverse("portal:review", args=[review.pk]) in section(queue, "decided-heading")


def test_a_blocking_failure_shows_a_banner_and_refuses_approval(
        client, users, project, template, django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks,
                       product="BLOCKME")
    client.force_login(users["reviewer"])
    form = section(page(client, review), "decide-heading")
    assert "Approval is blocked." in form
    assert "<code>dummy-words</code> failed with critical severity" in form
    assert ('value="approve" class="button button-primary" disabled '
            'aria-describedby="approval-blocked"') in form
    refused = decide(client, review, **{"override_dummy-words": "looks fine"})
    assert refused.status_code == 403
    assert "Blocking check failures stop approval: dummy-words (critical)" in (
        refused.content.decode())
    review.refresh_from_db()
    assert review.status == "in_review" and not review.decisions.exists()


def test_nobody_gets_a_decision_form_for_their_own_asset(
        client, users, project, template, django_capture_on_commit_callbacks):
    review = in_review(users["owner"], project, django_capture_on_commit_callbacks)
    client.force_login(users["owner"])  # an owner may review, but not their own asset
    html = page(client, review)
    assert 'id="decision-form"' not in html
    assert "You generated or submitted this asset" in section(html, "decide-heading")
    refused = decide(client, review)
    assert refused.status_code == 403
    assert "another reviewer must decide on it" in refused.content.decode()

    client.force_login(users["creator"])  # a creator never decides
    assert 'id="decision-form"' not in page(client, review)
    assert decide(client, review).status_code == 403
    review.refresh_from_db()
    assert review.status == "in_review" and not review.decisions.exists()


def test_requesting_changes_needs_a_comment(client, users, project, template,
                                            django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["reviewer"])
    refused = decide(client, review, "request_changes", comment=" ")
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Say why, so the creator knows what to change." in html
    assert 'id="id_comment_error"' in html
    assert not review.decisions.exists()

    assert decide(client, review, "request_changes", comment="Shorter").status_code == 302
    review.refresh_from_db()
    assert review.status == "changes_requested"


def test_a_comment_on_a_span_is_stored_and_shown(client, users, project, template,
                                                 django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["reviewer"])
    url = reverse("portal:review_comment", args=[review.pk])
    start = review.asset.text.index("Kite")

    bad = client.post(url, {"body": "x", "span_start": "5", "span_end": "9999"})
    assert bad.status_code == 400 and "span must be [start, end)" in bad.content.decode()
    assert not Comment.objects.exists()

    done = client.post(url, {"body": "Say <what> a kite is", "span_start": str(start),
                             "span_end": str(start + 4)})
    assert done.status_code == 302 and done["Location"].endswith("#comments")
    comment = Comment.objects.get()
    assert (comment.span_start, comment.span_end, comment.author) == (
        start, start + 4, users["reviewer"])
    html = section(page(client, review), "comments-heading")
    assert '<blockquote class="comment-quote">Kite</blockquote>' in html
    assert "Say &lt;what&gt; a kite is" in html and f"characters {start}–{start + 4}" in html


def test_a_stale_content_hash_is_a_conflict(client, users, project, template,
                                            django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["reviewer"])
    response = client.post(reverse("portal:review_decide", args=[review.pk]),
                           {"decision": "approve", "content_sha256": "0" * 64})
    assert response.status_code == 409
    assert "content changed since you saw it" in response.content.decode()
    review.refresh_from_db()
    assert review.status == "in_review" and not review.decisions.exists()


def test_factuality_evidence_is_shown_and_only_web_links_are_linked(
        client, users, project, template, django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks)
    at = review.asset.text.index("Kite")
    CheckResult.objects.update_or_create(
        asset=review.asset, content_sha256=review.content_sha256, check_id="factuality",
        defaults=dict(project=project, check_version="1", status="warn", severity="medium",
                      summary="1 claim contradicts an approved fact", evidence=[
            {"message": "Contradicts an approved fact", "span": [at, at + 4],
             "data": {"claim": "Kite", "verdict": "contradicted", "fact": "It is a <kite>",
                      "source": "https://example.com/facts/1"}},
            {"message": "Unsourced", "span": None,
             "data": {"claim": "x", "verdict": "unsupported", "fact": "",
                      "source": "javascript:alert(1)"}}]))
    client.force_login(users["reviewer"])
    html = page(client, review)
    claims = section(html, "facts-heading")
    assert '<span class="badge badge-check-fail">Contradicted</span>' in claims
    assert "It is a &lt;kite&gt;" in claims
    assert '<a href="https://example.com/facts/1" rel="noopener noreferrer"' in claims
    assert "javascript:alert(1)" in claims and 'href="javascript:' not in html
    # The claim's own verdict colours it, not the check's overall warning.
    assert '<mark class="ev ev-fail" title="1. “Kite” contradicts the approved fact' in html
    assert 'name="override_factuality"' in html  # warn/medium is overridable


def test_an_image_review_shows_the_image_and_its_regions(client, users, project):
    asset = Asset.objects.create(project=project, kind="image", media_type="image/png",
                                 byte_size=10, sha256="a" * 64, width=200, height=100,
                                 created_by=users["creator"])
    CheckResult.objects.create(
        asset=asset, project=project, content_sha256=asset.sha256, check_id="logo",
        check_version="1", status="fail", severity="low", summary="logo too small",
        evidence=[{"message": "Logo is tiny", "region": [20, 10, 40, 50]}])
    review = workflow.open_review(asset, submitted_by=users["creator"])
    client.force_login(users["reviewer"])
    html = page(client, review)
    assert f'<img src="{reverse("portal:asset_content", args=[asset.pk])}"' in html
    # Applied by portal/sizes.js: CSP forbids inline style attributes.
    assert 'data-region="left:10.00%;top:10.00%;width:20.00%;height:50.00%"' in html
    assert "Region at x 20, y 10, 40×50 px" in html
    assert 'name="override_logo"' in html  # fail/low is not blocking by default


def test_comment_offsets_the_service_refuses_are_a_400_not_a_500(
        client, users, project, template, django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["reviewer"])
    url = reverse("portal:review_comment", args=[review.pk])
    for start, end in (("9" * 5000, "9" * 5001), ("0", "9" * 5000), ("²", "4"),
                       ("-1", "4"), ("1.5", "4"), ("0", "99999999999999999999")):
        response = client.post(url, {"body": "x", "span_start": start, "span_end": end})
        assert response.status_code == 400, (start[:20], end[:20])
        html = response.content.decode()
        error = html[html.index('id="comment-error"'):]
        error = error[:error.index("</div>")]
        assert "span must be [start, end) within the text" in error
        assert "9" * 300 not in error  # the message does not repeat the digits
    assert not Comment.objects.exists()


def test_a_comment_over_the_limit_is_refused_and_kept_in_the_form(
        client, users, project, template, django_capture_on_commit_callbacks):
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["reviewer"])
    url = reverse("portal:review_comment", args=[review.pk])
    response = client.post(url, {"body": "w" * 5001})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The comment is 5001 characters long; the limit is 5000." in html
    assert not Comment.objects.exists()
    assert client.post(url, {"body": "w" * 5000}).status_code == 302
    assert Comment.objects.get().body == "w" * 5000  # stored whole, not cut


def test_a_reviewer_who_passed_an_earlier_stage_gets_no_form_and_no_queue_entry(
        client, users, project, template, django_capture_on_commit_callbacks):
    from governance.review import brand

    brand.update_policy(users["owner"], project, {"stages": [
        {"name": "brand", "approvals_required": 1, "roles": ["reviewer", "owner"]},
        {"name": "legal", "approvals_required": 1, "roles": ["reviewer", "owner"]}]})
    review = in_review(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["reviewer"])
    assert decide(client, review).status_code == 302
    html = page(client, review)
    assert 'id="decision-form"' not in html
    assert "You approved an earlier stage of this asset" in section(html, "decide-heading")
    queue = client.get(reverse("portal:reviews")).content.decode()
    assert reverse("portal:review", args=[review.pk]) not in section(queue, "waiting-heading")
    client.force_login(users["owner"])
    assert reverse("portal:review", args=[review.pk]) in section(
        client.get(reverse("portal:reviews")).content.decode(), "waiting-heading")
