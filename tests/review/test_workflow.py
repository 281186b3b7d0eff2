"""The review workflow: checks → review → decisions under the policy, enforced everywhere."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from assay.accounts.choices import ProjectRole
from assay.audit.models import AuditEvent
from assay.core.exceptions import Conflict, InvalidInput, NotPermitted
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from assay.studio.services.projects import grant_role
from governance.review import brand, workflow
from governance.review.checks import run_checks
from governance.review.deadlines import sweep_deadlines
from governance.review.models import CheckResult, Review
from tests.conftest import generate_checked as generate
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client




@pytest.fixture
def second_reviewer(project):
    user = make_user("rita")
    user.email = "rita@example.com"
    user.save()
    grant_role(project, user, ProjectRole.REVIEWER)
    return user


def test_checks_run_and_the_asset_enters_review(users, project, template,
                                                django_capture_on_commit_callbacks):
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    result = CheckResult.objects.get(asset=asset, check_id="dummy-words")
    assert result.status == "pass" and result.content_sha256 == asset.sha256
    review = Review.objects.get(asset=asset)
    assert review.status == "in_review" and review.generated_by == users["creator"]
    assert AuditEvent.objects.filter(action="review.checks.completed",
                                     target_id=str(asset.pk)).exists()
    before = CheckResult.objects.filter(asset=asset).count()
    assert before >= 1
    run_checks(str(asset.pk))  # a repeated delivery changes nothing
    assert CheckResult.objects.filter(asset=asset).count() == before
    assert Review.objects.filter(asset=asset).count() == 1


def test_nobody_approves_their_own_asset(users, project, template,
                                         django_capture_on_commit_callbacks):
    asset = generate(users["owner"], project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    with pytest.raises(NotPermitted, match="You generated or submitted"):
        workflow.decide(users["owner"], review, decision="approve",
                        content_sha256=asset.sha256)
    response = api(users["owner"]).post(f"/api/v1/reviews/{review.pk}/decisions/",
                                        {"decision": "approve",
                                         "content_sha256": asset.sha256}, format="json")
    assert response.status_code == 403 and "another reviewer" in response.json()["detail"]
    review.refresh_from_db()
    assert review.status == "in_review" and not review.decisions.exists()


def test_two_stages_need_two_people(users, project, template, second_reviewer,
                                    django_capture_on_commit_callbacks):
    brand.update_policy(users["owner"], project, {"stages": [
        {"name": "brand", "approvals_required": 1, "roles": ["reviewer"], "due_hours": 24},
        {"name": "legal", "approvals_required": 1, "roles": ["reviewer", "owner"],
         "due_hours": 24}]})
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    workflow.decide(users["reviewer"], review, decision="approve", content_sha256=asset.sha256)
    review.refresh_from_db()
    assert review.stage_index == 1 and review.status == "in_review"
    with pytest.raises(NotPermitted, match="approved an earlier stage"):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=asset.sha256)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.decide(second_reviewer, review, decision="approve",
                        content_sha256=asset.sha256)
    review.refresh_from_db()
    assert review.status == "approved"
    assert [d.stage_name for d in review.decisions.all()] == ["brand", "legal"]
    assert AuditEvent.objects.filter(action="review.asset.approved").count() == 1


def test_a_blocking_failure_stops_approval(users, project, template,
                                           django_capture_on_commit_callbacks):
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks,
                     product="BLOCKME")
    review = Review.objects.get(asset=asset)
    response = api(users["reviewer"]).post(f"/api/v1/reviews/{review.pk}/decisions/", {
        "decision": "approve", "content_sha256": asset.sha256,
        "overrides": {"dummy-words": "looks fine to me"}}, format="json")
    assert response.status_code == 403
    assert "dummy-words (critical)" in response.json()["detail"]
    review.refresh_from_db()
    assert review.status == "in_review"


def test_a_warning_is_overridden_only_with_a_reason(users, project, template,
                                                    django_capture_on_commit_callbacks):
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks,
                     product="WARNME")
    review = Review.objects.get(asset=asset)
    with pytest.raises(InvalidInput, match="needs a written reason"):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=asset.sha256)
    with pytest.raises(InvalidInput, match="needs a written reason"):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=asset.sha256, overrides={"dummy-words": "   "})
    workflow.decide(users["reviewer"], review, decision="approve",
                    content_sha256=asset.sha256,
                    overrides={"dummy-words": "the product is really called WARNME"})
    review.refresh_from_db()
    assert review.status == "approved"
    event = AuditEvent.objects.get(action="review.check.overridden")
    assert event.reason == "the product is really called WARNME"
    assert event.data == {"check": "dummy-words"}


def test_decisions_are_pinned_to_the_content_seen(users, project, template,
                                                  django_capture_on_commit_callbacks):
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    with pytest.raises(Conflict, match="content changed since you saw it"):
        workflow.decide(users["reviewer"], review, decision="approve", content_sha256="0" * 64)


def test_a_new_version_restarts_review(users, project, template,
                                       django_capture_on_commit_callbacks):
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    old = Review.objects.get(asset=asset)
    response = api(users["creator"]).post(f"/api/v1/assets/{asset.pk}/revise/",
                                          {"text": "A tidier text about Kite."}, format="json")
    assert response.status_code == 201
    old.refresh_from_db()
    assert old.status == "superseded"
    new = Asset.objects.get(pk=response.json()["id"])
    assert new.parent == asset and new.created_by == users["creator"]
    run_checks(str(new.pk))
    fresh = Review.objects.get(asset=new)
    assert fresh.status == "in_review" and fresh.content_sha256 == new.sha256
    with pytest.raises(Conflict, match="superseded"):
        workflow.decide(users["reviewer"], old, decision="approve",
                        content_sha256=asset.sha256)


def test_reject_and_request_changes_go_back_with_reasons(users, project, template,
                                                         django_capture_on_commit_callbacks):
    users["creator"].email = "cara@example.com"
    users["creator"].save()
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    with pytest.raises(InvalidInput, match="Say why"):
        workflow.decide(users["reviewer"], review, decision="reject",
                        content_sha256=asset.sha256)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.decide(users["reviewer"], review, decision="request_changes",
                        content_sha256=asset.sha256, comment="Mention the warranty.")
    review.refresh_from_db()
    assert review.status == "changes_requested"
    assert mail.outbox[-1].to == ["cara@example.com"]
    assert "Mention the warranty." in mail.outbox[-1].body


def test_comments_are_anchored_and_validated(users, project, template,
                                             django_capture_on_commit_callbacks):
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    review = Review.objects.get(asset=asset)
    client = api(users["reviewer"])
    ok = client.post(f"/api/v1/reviews/{review.pk}/comments/",
                     {"body": "Nice opening", "span": [0, 5]}, format="json")
    assert ok.status_code == 201 and ok.json()["span"] == [0, 5]
    bad = client.post(f"/api/v1/reviews/{review.pk}/comments/",
                      {"body": "x", "span": [0, 10_000]}, format="json")
    assert bad.status_code == 400 and "within the text" in bad.json()["detail"]
    region = client.post(f"/api/v1/reviews/{review.pk}/comments/",
                         {"body": "x", "region": [0, 0, 5, 5]}, format="json")
    assert region.status_code == 400  # a text asset has no image region
    assert AuditEvent.objects.filter(action="review.comment.added").count() == 1


def test_the_review_queue_shows_what_awaits_me(users, project, template, other_project,
                                               django_capture_on_commit_callbacks):
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks,
                     product="WARNME")
    mine = api(users["reviewer"]).get("/api/v1/reviews/?awaiting_me=true").json()
    assert [r["asset"]["id"] for r in mine["results"]] == [str(asset.pk)]
    review = mine["results"][0]
    words = next(c for c in review["checks"] if c["check_id"] == "dummy-words")
    assert words["status"] == "warn"
    assert words["evidence"][0]["span"] == [
        asset.text.index("WARNME"), asset.text.index("WARNME") + 6]
    assert api(users["creator"]).get("/api/v1/reviews/?awaiting_me=true").json()["count"] == 0
    assert api(users["outsider"]).get("/api/v1/reviews/").json()["count"] == 0
    assert api(users["outsider"]).get(f"/api/v1/assets/{asset.pk}/checks/").status_code == 404


def test_owners_edit_kit_and_policy_and_others_cannot(users, project):
    owner, reviewer = api(users["owner"]), api(users["reviewer"])
    kit = {"voice": "Warm, plain.", "banned_terms": [{"term": "cheap",
                                                      "alternatives": ["affordable"]}],
           "disclaimers": [{"text": "Prices include VAT.", "triggers": ["price"]}],
           "facts": [{"statement": "Kite charges in 30 minutes.",
                      "source_url": "https://example.com/kite", "valid_until": "2030-01-01"}]}
    assert owner.put("/api/v1/projects/launch/brand-kit/", kit, format="json").status_code == 200
    got = reviewer.get("/api/v1/projects/launch/brand-kit/").json()
    assert got["banned_terms"][0]["term"] == "cheap" and len(got["facts"]) == 1
    assert reviewer.put("/api/v1/projects/launch/brand-kit/", kit,
                        format="json").status_code == 403
    bad = owner.put("/api/v1/projects/launch/review-policy/", {"stages": [
        {"name": "x", "approvals_required": 1, "roles": ["creator"]}]}, format="json")
    assert bad.status_code == 400 and "creators never decide" in bad.json()["detail"]
    assert AuditEvent.objects.filter(action="review.brand_kit.updated").exists()
    assert AuditEvent.objects.filter(action="review.facts.updated").exists()


def test_overdue_stages_remind_then_escalate(users, project, template, second_reviewer,
                                             django_capture_on_commit_callbacks):
    users["owner"].email = "olga@example.com"
    users["owner"].save()
    users["reviewer"].email = "rui@example.com"
    users["reviewer"].save()
    users["creator"].email = "cara@example.com"
    users["creator"].save()
    brand.update_policy(users["owner"], project, {"stages": [
        {"name": "brand", "approvals_required": 1, "roles": ["reviewer"], "due_hours": 1}]})
    generate(users["creator"], project, django_capture_on_commit_callbacks)
    now = timezone.now()
    assert sweep_deadlines(now + timedelta(minutes=30))["reminded"] == 0
    assert sweep_deadlines(now + timedelta(hours=1, minutes=5))["reminded"] == 1
    reminder = mail.outbox[-1]
    assert sorted(reminder.to) == ["rita@example.com", "rui@example.com"]  # not the creator
    assert sweep_deadlines(now + timedelta(hours=1, minutes=30)) == {
        "reminded": 0, "escalated": 0, "checks_requeued": 0}
    assert sweep_deadlines(now + timedelta(hours=2, minutes=5))["escalated"] == 1
    assert mail.outbox[-1].to == ["olga@example.com"]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"review.stage.reminded", "review.stage.escalated"} <= actions


def test_approval_calls_the_asset_approved_hook(users, project, template, monkeypatch,
                                                django_capture_on_commit_callbacks):
    from assay import hookimpl
    from assay.plugins.manager import build_plugins

    seen = []

    class Publisher:
        @staticmethod
        @hookimpl
        def asset_approved(asset_id, project, sha256):
            seen.append((asset_id, project, sha256))

    plugins = build_plugins(strict=True, extra=[("publisher", Publisher)])
    monkeypatch.setattr("governance.review.signals.get_plugins", lambda: plugins)
    asset = generate(users["creator"], project, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.decide(users["reviewer"], Review.objects.get(asset=asset),
                        decision="approve", content_sha256=asset.sha256)
    assert seen == [(str(asset.pk), "launch", asset.sha256)]


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_at_once_make_exactly_one_state_change(require_postgres, users,
                                                             project, template):
    second = make_user("rita")
    grant_role(project, second, ProjectRole.REVIEWER)
    job = submit_generation(users["creator"], project=project, template="blurb",
                            variables={"product": "Kite"})
    run_job(str(job.pk), worker="w")
    asset = Asset.objects.get(job=job)
    run_checks(str(asset.pk))
    review = Review.objects.get(asset=asset)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user) -> None:
        try:
            barrier.wait()
            workflow.decide(user, Review.objects.get(pk=review.pk), decision="approve",
                            content_sha256=asset.sha256)
            outcomes.append("approved")
        except Conflict as exc:
            outcomes.append(f"conflict: {exc.message}")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (users["reviewer"], second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["approved", "conflict"]
    review.refresh_from_db()
    assert review.status == "approved" and review.decisions.count() == 1
    assert AuditEvent.objects.filter(action="review.asset.approved").count() == 1
