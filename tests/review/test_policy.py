"""One review policy: the portal, REST, the queue and the service give the same answer;
an approval is one hook event whose correlation id reaches every task; a rejection
sticks; concurrent submissions are a 409; sizes are refused with a 400, never cut.

Assets reach review the real way (a job run by ``run_job``, then ``run_checks``); the
broker is the real Redis under CI, and the tasks it received are run as the worker would.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from assay.accounts.choices import ProjectRole
from assay.audit.models import AuditEvent
from assay.core.exceptions import Conflict, InvalidInput
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from assay.studio.services.projects import grant_role
from governance.review import brand, workflow
from governance.review.checks import run_checks
from governance.review.choices import MAX_COMMENT_CHARS, MAX_STAGES
from governance.review.models import Comment, Decision, Review
from governance.review.policy import Decide
from tests.conftest import generate_checked as generate
from tests.conftest import make_user, race

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


def api(user: Any, **headers: str) -> APIClient:
    client = APIClient(**headers)
    client.force_authenticate(user)
    return client


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client




def two_stages(owner: Any, project: Any, *, approvals: int = 1, **extra: Any) -> None:
    brand.update_policy(owner, project, {"stages": [
        {"name": "brand", "approvals_required": approvals, "roles": ["reviewer", "owner"]},
        {"name": "legal", "approvals_required": 1, "roles": ["reviewer", "owner"]}],
        **extra})


def decision_body(review: Review, **extra: Any) -> dict[str, Any]:
    return {"decision": "approve", "content_sha256": review.content_sha256, **extra}


# -- the portal, REST, the queue and the service agree -------------------------------------

def what_each_surface_says(user: Any, review: Review) -> dict[str, Any]:
    """Queue membership (model, REST, portal), the portal's form, and the refusal if any."""
    rest = api(user)
    page = browser(user)
    queue = rest.get("/api/v1/reviews/?awaiting_me=true")
    assert queue.status_code == 200
    portal_queue = page.get(reverse("portal:reviews")).content.decode()
    link = f'href="{reverse("portal:review", args=[review.pk])}"'
    detail = page.get(reverse("portal:review", args=[review.pk]))
    refusal = Decide(user, review).refusal() if detail.status_code == 200 else None
    return {
        "queue": review in Review.objects.awaiting(user),
        "rest_queue": review.pk in [r["id"] for r in queue.json()["results"]],
        "portal_queue": link in portal_queue.split('aria-labelledby="decided-heading"')[0],
        "page": detail.status_code,
        "form": 'id="decision-form"' in detail.content.decode(),
        "refusal": refusal,
        "html": detail.content.decode(),
    }


def assert_refused_everywhere(user: Any, review: Review, status: int, words: str) -> None:
    seen = what_each_surface_says(user, review)
    assert not seen["queue"] and not seen["rest_queue"] and not seen["portal_queue"]
    assert not seen["form"]
    if status == 404:  # an outsider: nothing to see anywhere
        assert seen["page"] == 404
    else:
        assert seen["refusal"] is not None and seen["refusal"].status_code == status
        assert words in seen["refusal"].message
        assert words in seen["html"].split('id="decide-heading"')[1]  # the page says why
    before = Decision.objects.count()
    rest = api(user).post(f"/api/v1/reviews/{review.pk}/decisions/", decision_body(review),
                          format="json")
    assert rest.status_code == status
    if status != 404:
        assert words in rest.json()["detail"]
    portal = browser(user).post(reverse("portal:review_decide", args=[review.pk]),
                                decision_body(review))
    assert portal.status_code == status
    assert Decision.objects.count() == before


def assert_offered_everywhere(user: Any, review: Review) -> None:
    seen = what_each_surface_says(user, review)
    assert seen["refusal"] is None
    assert seen["queue"] and seen["rest_queue"] and seen["portal_queue"] and seen["form"]


def test_who_may_decide_is_answered_alike_by_queue_rest_portal_and_service(
        users, project, template, django_capture_on_commit_callbacks):
    owner, reviewer, creator = users["owner"], users["reviewer"], users["creator"]
    rita = make_user("rita")
    grant_role(project, rita, ProjectRole.REVIEWER)
    two_stages(owner, project)
    review = Review.objects.get(
        asset=generate(creator, project, django_capture_on_commit_callbacks))

    assert_offered_everywhere(reviewer, review)
    assert_offered_everywhere(owner, review)
    assert_offered_everywhere(users["admin"], review)
    assert_refused_everywhere(creator, review, 403, "You generated or submitted this asset")
    assert_refused_everywhere(users["auditor"], review, 403, "your role is none")
    assert_refused_everywhere(users["outsider"], review, 404, "")

    # Stage one passes; its approver may not take stage two (the old queue still listed it).
    done = api(reviewer).post(f"/api/v1/reviews/{review.pk}/decisions/",
                              decision_body(review), format="json")
    assert done.status_code == 201 and done.json()["stage_index"] == 1
    assert_refused_everywhere(reviewer, review, 403, "You approved an earlier stage")
    assert_offered_everywhere(rita, review)
    assert_offered_everywhere(owner, review)

    assert browser(rita).post(reverse("portal:review_decide", args=[review.pk]),
                              decision_body(review)).status_code == 302
    review.refresh_from_db()
    assert review.status == "approved"
    assert_refused_everywhere(owner, review, 409, "This review is approved")


def test_a_second_decision_at_a_stage_is_refused_everywhere(
        users, project, template, django_capture_on_commit_callbacks):
    two_stages(users["owner"], project, approvals=2)
    review = Review.objects.get(
        asset=generate(users["creator"], project, django_capture_on_commit_callbacks))
    workflow.decide(users["reviewer"], review, decision="approve",
                    content_sha256=review.content_sha256)
    review.refresh_from_db()
    assert review.stage_index == 0  # one of two approvals
    assert_refused_everywhere(users["reviewer"], review, 409,
                              "You already decided at this stage")
    assert_offered_everywhere(users["owner"], review)


def test_only_members_may_comment_in_the_portal_and_over_rest(
        users, project, template, django_capture_on_commit_callbacks):
    review = Review.objects.get(
        asset=generate(users["creator"], project, django_capture_on_commit_callbacks))
    auditor = users["auditor"]  # sees every project, comments on none
    assert 'id="comment-form"' not in browser(auditor).get(
        reverse("portal:review", args=[review.pk])).content.decode()
    refused = api(auditor).post(f"/api/v1/reviews/{review.pk}/comments/", {"body": "hi"},
                                format="json")
    assert refused.status_code == 403 and "Only project members" in refused.json()["detail"]
    assert browser(auditor).post(reverse("portal:review_comment", args=[review.pk]),
                                 {"body": "hi"}).status_code == 403
    assert 'id="comment-form"' in browser(users["creator"]).get(
        reverse("portal:review", args=[review.pk])).content.decode()
    assert not Comment.objects.exists()


def test_reminders_go_to_whom_the_review_awaits(users, project, template,
                                                django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.core import mail
    from django.utils import timezone

    from governance.review.deadlines import sweep_deadlines

    rita = make_user("rita")
    grant_role(project, rita, ProjectRole.REVIEWER)
    for user, address in ((rita, "rita@example.com"), (users["reviewer"], "rui@example.com"),
                          (users["owner"], "olga@example.com")):
        user.email = address
        user.save()
    two_stages(users["owner"], project)
    review = Review.objects.get(
        asset=generate(users["creator"], project, django_capture_on_commit_callbacks))
    workflow.decide(users["reviewer"], review, decision="approve",
                    content_sha256=review.content_sha256)
    assert sweep_deadlines(timezone.now() + timedelta(hours=49))["reminded"] == 1
    # Not rui, who approved stage one and may not decide stage two.
    assert sorted(mail.outbox[-1].to) == ["olga@example.com", "rita@example.com"]
    assert review in Review.objects.awaiting(rita)
    assert review not in Review.objects.awaiting(users["reviewer"])


# -- one approval event; the correlation id travels into every task ------------------------

def test_an_approval_is_one_hook_event_with_its_correlation_id(
        users, project, template, monkeypatch, django_capture_on_commit_callbacks):
    from assay import hookimpl
    from assay.plugins.manager import build_plugins

    seen: list[tuple[str, int, str]] = []

    class Publisher:
        @staticmethod
        @hookimpl
        def asset_approved(asset_id, review_id, correlation_id):
            seen.append((asset_id, review_id, correlation_id))

    plugins = build_plugins(strict=True, extra=[("publisher", Publisher)])
    monkeypatch.setattr("governance.review.signals.get_plugins", lambda: plugins)
    two_stages(users["owner"], project)
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=asset.sha256)
    assert seen == []  # a stage passed; nothing is approved yet
    with django_capture_on_commit_callbacks(execute=True):
        api(users["owner"], HTTP_X_REQUEST_ID="corr-final-approval").post(
            f"/api/v1/reviews/{review.pk}/decisions/", decision_body(review), format="json")
    assert seen == [(str(asset.pk), review.pk, "corr-final-approval")]
    assert AuditEvent.objects.get(action="review.asset.approved").correlation_id == (
        "corr-final-approval")


def received(queue: str = "cpu") -> list[tuple[str, list[Any]]]:
    """Take every task message waiting on ``queue`` of the real broker: (name, args)."""
    from assay.celery import app

    out = []
    with app.connection_for_read() as conn, conn.SimpleQueue(queue, no_ack=True) as q:
        while True:
            try:
                message = q.get(timeout=0.5)
            except q.Empty:
                break
            out.append((message.headers["task"], message.payload[0]))
    return out


@pytest.fixture
def broker(require_redis: str, use_broker: Any) -> None:
    """This process publishes to the real Redis, with nothing left from earlier tests."""
    use_broker(require_redis)
    received()


@pytest.fixture
def signing(settings: Any, tmp_path: Path) -> None:
    from governance.provenance.credentials import init_dev_credentials

    init_dev_credentials(tmp_path / "signing")
    settings.ASSAY_SIGNING_DIR = tmp_path / "signing"
    settings.ASSAY_SIGNING_CERT = settings.ASSAY_SIGNING_KEY = ""
    settings.ASSAY_TSA_URL = settings.ASSAY_TRUST_ANCHORS = ""


def test_the_approvals_correlation_id_reaches_the_signing_task(
        broker, signing, users, project, template, django_capture_on_commit_callbacks):
    from governance.provenance.tasks import sign_asset_task

    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(users["reviewer"], HTTP_X_REQUEST_ID="corr-approve-0001").post(
            f"/api/v1/reviews/{review.pk}/decisions/", decision_body(review), format="json")
    assert response.status_code == 201
    [(name, args)] = received()
    assert (name, args) == ("provenance.sign_asset", [str(asset.pk), review.pk,
                                                      "corr-approve-0001"])
    assert sign_asset_task(*args) is not None  # what the worker runs, from the message
    signed = AuditEvent.objects.get(action="provenance.asset.signed")
    approved = AuditEvent.objects.get(action="review.asset.approved")
    assert signed.correlation_id == approved.correlation_id == "corr-approve-0001"


def test_a_revisions_correlation_id_reaches_its_check_task(
        broker, users, project, template, django_capture_on_commit_callbacks):
    from governance.review.tasks import run_checks_task

    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(users["creator"], HTTP_X_REQUEST_ID="corr-revise-0001").post(
            f"/api/v1/assets/{asset.pk}/revise/", {"text": "A tidier text about Kite."},
            format="json")
    assert response.status_code == 201
    new_id = response.json()["id"]
    [(name, args)] = received()
    assert (name, args) == ("review.run_checks", [new_id, "corr-revise-0001"])
    assert run_checks_task(*args) >= 1
    for action in ("studio.asset.revised", "review.checks.completed", "review.asset.submitted"):
        event = AuditEvent.objects.get(action=action, target_id=new_id)
        assert event.correlation_id == "corr-revise-0001", action


# -- a rejection sticks --------------------------------------------------------------------

def test_rejected_content_is_never_reviewed_again_only_a_new_version(
        users, project, template, django_capture_on_commit_callbacks):
    creator = users["creator"]
    asset = generate(creator, project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    workflow.decide(users["reviewer"], review, decision="reject",
                    content_sha256=asset.sha256, comment="Off brand.")

    again = api(creator).post(f"/api/v1/assets/{asset.pk}/submit-review/", {}, format="json")
    assert again.status_code == 409
    assert "was rejected" in again.json()["detail"] and "new version" in again.json()["detail"]
    unchanged = api(creator).post(f"/api/v1/assets/{asset.pk}/revise/", {"text": asset.text},
                                  format="json")
    assert unchanged.status_code == 409 and "was rejected" in unchanged.json()["detail"]
    run_checks(str(asset.pk))  # a redelivered check task does not reopen it either
    same = Asset.objects.create(  # the same bytes again, e.g. regenerated with its seed
        project=project, kind="text", media_type=asset.media_type, text=asset.text,
        byte_size=asset.byte_size, sha256=asset.sha256, created_by=creator)
    run_checks(str(same.pk))
    assert not Review.objects.filter(asset=same).exists()
    with pytest.raises(Conflict, match="was rejected"):
        workflow.submit_for_review(creator, same)
    assert list(Review.objects.values_list("status", flat=True)) == ["rejected"]

    changed = api(creator).post(f"/api/v1/assets/{asset.pk}/revise/",
                                {"text": asset.text + " Now with a warranty."}, format="json")
    assert changed.status_code == 201
    new = Asset.objects.get(pk=changed.json()["id"])
    run_checks(str(new.pk))
    assert Review.objects.get(asset=new).status == "in_review"


def test_an_approved_version_is_not_reopened_by_a_redelivered_check(
        users, project, template, django_capture_on_commit_callbacks):
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    workflow.decide(users["reviewer"], Review.objects.get(asset=asset), decision="approve",
                    content_sha256=asset.sha256)
    run_checks(str(asset.pk))
    assert list(Review.objects.values_list("status", flat=True)) == ["approved"]
    refused = api(users["creator"]).post(f"/api/v1/assets/{asset.pk}/submit-review/", {},
                                         format="json")
    assert refused.status_code == 409 and "already approved" in refused.json()["detail"]


# -- concurrent submissions ----------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_give_one_review_and_409s(require_postgres, users, project,
                                                         template):
    brand.update_policy(users["owner"], project, {"stages": [
        {"name": "review", "approvals_required": 1, "roles": ["reviewer"]}],
        "auto_submit": False})
    job = submit_generation(users["creator"], project=project, template="blurb",
                            variables={"product": "Kite"})
    run_job(str(job.pk), worker="w")
    asset = Asset.objects.get(job=job)
    run_checks(str(asset.pk))
    assert not Review.objects.exists()
    clients = iter([api(users["creator"]) for _ in range(4)])

    def submit() -> tuple[int, str]:
        response = next(clients).post(f"/api/v1/assets/{asset.pk}/submit-review/", {},
                                      format="json")
        return response.status_code, response.json().get("detail", "")

    answers = race(4, submit)
    assert sorted(code for code, _ in answers) == [201, 409, 409, 409]
    assert all("already in review" in words for code, words in answers if code == 409)
    assert Review.objects.filter(asset=asset).count() == 1
    assert AuditEvent.objects.filter(action="review.asset.submitted").count() == 1


# -- size limits: a clear 400, nothing cut, nothing written --------------------------------

def test_a_policy_has_at_most_twenty_stages(users, project):
    def stages(n: int) -> list[dict[str, Any]]:
        return [{"name": f"s{i}", "approvals_required": 1, "roles": ["reviewer"]}
                for i in range(n)]

    with pytest.raises(InvalidInput, match=f"at most {MAX_STAGES} stages"):
        brand.update_policy(users["owner"], project, {"stages": stages(MAX_STAGES + 1)})
    owner = api(users["owner"])
    too_many = owner.put("/api/v1/projects/launch/review-policy/",
                         {"stages": stages(10_000)}, format="json")
    assert too_many.status_code == 400 and "at most 20 stages" in too_many.json()["detail"]
    assert not AuditEvent.objects.filter(action="review.policy.updated").exists()
    ok = owner.put("/api/v1/projects/launch/review-policy/", {"stages": stages(MAX_STAGES)},
                   format="json")
    assert ok.status_code == 200 and len(ok.json()["stages"]) == MAX_STAGES


def test_revised_text_has_the_generated_texts_limit(users, project, template, settings,
                                                    django_capture_on_commit_callbacks):
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    settings.ASSAY_MAX_TEXT_CHARS = 40
    before = Asset.objects.count()
    long = api(users["creator"]).post(f"/api/v1/assets/{asset.pk}/revise/",
                                      {"text": "x" * 41}, format="json")
    assert long.status_code == 400
    assert "41 characters long; the limit is 40" in long.json()["detail"]
    assert Asset.objects.count() == before
    assert Review.objects.get(asset=asset).status == "in_review"  # nothing superseded
    nul = api(users["creator"]).post(f"/api/v1/assets/{asset.pk}/revise/",
                                     {"text": "a\u0000b"}, format="json")
    assert nul.status_code == 400 and Asset.objects.count() == before
    fits = api(users["creator"]).post(f"/api/v1/assets/{asset.pk}/revise/",
                                      {"text": "y" * 40}, format="json")
    assert fits.status_code == 201
    assert Asset.objects.get(pk=fits.json()["id"]).text == "y" * 40


def test_comments_over_the_limit_are_refused_never_cut(users, project, template,
                                                       django_capture_on_commit_callbacks):
    review = Review.objects.get(
        asset=generate(users["creator"], project, django_capture_on_commit_callbacks))
    client = api(users["reviewer"])
    url = f"/api/v1/reviews/{review.pk}/comments/"
    too_long = client.post(url, {"body": "x" * (MAX_COMMENT_CHARS + 1)}, format="json")
    assert too_long.status_code == 400 and str(MAX_COMMENT_CHARS) in too_long.json()["detail"]
    with pytest.raises(InvalidInput, match="the limit is 5000"):
        workflow.add_comment(users["reviewer"], review, body="x" * (MAX_COMMENT_CHARS + 1))
    assert not Comment.objects.exists()
    exact = client.post(url, {"body": "y" * MAX_COMMENT_CHARS}, format="json")
    assert exact.status_code == 201
    assert Comment.objects.get().body == "y" * MAX_COMMENT_CHARS

    long_reason = client.post(f"/api/v1/reviews/{review.pk}/decisions/", decision_body(
        review, decision="reject", comment="z" * (MAX_COMMENT_CHARS + 1)), format="json")
    assert long_reason.status_code == 400
    with pytest.raises(InvalidInput, match="the limit is 5000"):
        workflow.decide(users["reviewer"], review, decision="reject",
                        content_sha256=review.content_sha256,
                        comment="z" * (MAX_COMMENT_CHARS + 1))
    assert not Decision.objects.exists()


def test_comment_offsets_must_be_in_range(users, project, template,
                                          django_capture_on_commit_callbacks):
    review = Review.objects.get(
        asset=generate(users["creator"], project, django_capture_on_commit_callbacks))
    client = api(users["reviewer"])
    url = f"/api/v1/reviews/{review.pk}/comments/"
    huge = "9" * 5000
    for raw in (f'{{"body": "x", "span": [0, {huge}]}}',
                f'{{"body": "x", "span": [{huge}, {huge}1]}}',
                '{"body": "x", "span": [0, 9223372036854775808]}',
                '{"body": "x", "span": [false, true]}',
                '{"body": "x", "span": ["0", "4"]}',
                '{"body": "x", "span": [-1, 4]}',
                '{"body": "x", "span": [0, 4, 5]}'):
        response = client.post(url, raw, content_type="application/json")
        assert response.status_code == 400, (raw[:60], response.content[:300])
        assert len(response.content) < 2000  # the 5,000 digits are not echoed back
    assert not Comment.objects.exists()
    with pytest.raises(InvalidInput, match="within the text"):
        workflow.add_comment(users["reviewer"], review, body="x", span=[0, 10 ** 5000])


# -- the modules ---------------------------------------------------------------------------

def test_review_modules_import_at_the_top():
    """The checks open reviews through the policy, and the policy queues checks, without
    an import hidden in a function to dodge a cycle."""
    for path in sorted((REPO / "governance" / "review").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            # AppConfig.ready() is where Django wants registrations imported.
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not (
                    path.name == "apps.py" and node.name == "ready"):
                inner = [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
                assert not inner, f"{path.name}: import inside {node.name}()"
