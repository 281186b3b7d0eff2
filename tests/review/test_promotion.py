"""Governed promotion end to end: request → golden-set jobs (real runtime) and checks →
side-by-side results → approval by someone other than the author → the label moves, in
one transaction with its audit event; rejection; the refusals in words."""

from __future__ import annotations

import pytest

from assay.audit.models import AuditEvent
from assay.core.exceptions import Conflict, InvalidInput, NotFound, NotPermitted
from assay.generation.choices import JobStatus
from assay.studio.models import PromptLabel
from assay.studio.services.prompts import add_version
from assay.studio.services.protection import protect_label, save_golden_set, unprotect_label
from governance.review.models import CheckResult, Review
from governance.review.promotion import (
    ApprovePromotion,
    RejectPromotion,
    RequestPromotion,
    promotion_rows,
)
from governance.review.promotion_models import PromotionStatus, RunSide
from tests.review.promotion_helpers import protected_template, requested, run_golden_set

pytestmark = pytest.mark.django_db


def _production(template):
    return PromptLabel.objects.get(template=template, name="production").version


def test_promotion_end_to_end(users, project, template, django_capture_on_commit_callbacks):
    # given: production on v1, protected, a golden set of two; v2 by the creator
    v2 = protected_template(users, project, template)
    # when: the creator requests the promotion and the golden set runs
    promotion = requested(users, template, v2, django_capture_on_commit_callbacks)
    # then: one real job per sample and side, each succeeded and checked
    runs = list(promotion.runs.select_related("job"))
    assert sorted((r.sample, r.side) for r in runs) == [
        (1, RunSide.CANDIDATE), (1, RunSide.CURRENT), (2, RunSide.CANDIDATE),
        (2, RunSide.CURRENT)]
    assert {r.job.status for r in runs} == {JobStatus.SUCCEEDED}
    assert {r.job.prompt_version_id for r in runs if r.side == RunSide.CANDIDATE} == {v2.pk}
    rows = promotion_rows(promotion)
    assert [r.variables for r in rows] == [{"product": "Kite", "audience": "parents"},
                                           {"product": "Drone"}]
    for row in rows:
        assert row.candidate.finished and row.current.finished
        assert "friendly note about" in row.candidate.text
        assert "friendly" not in row.current.text
        assert row.candidate.checks and row.current.checks
        assert {c.check_id for c in row.candidate.checks} == {
            c.check_id for c in row.current.checks}
    assert CheckResult.objects.filter(asset__job__in=[r.job for r in runs]).count() == sum(
        len(r.candidate.checks) + len(r.current.checks) for r in rows)
    assert _production(template).number == 1
    # and: trial outputs stay out of the review queue
    assert not Review.objects.filter(asset__job__in=[r.job for r in runs]).exists()
    # when: the owner (not v2's author) approves
    ApprovePromotion(users["owner"], promotion, comment="reads better").execute()
    # then: the label moved, the promotion is applied, both events are recorded
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.APPROVED and promotion.applied_at
    assert _production(template) == v2
    moved = [e for e in AuditEvent.objects.filter(action="studio.prompt_label.moved")
             .order_by("id") if e.data["label"] == "production"][-1]
    assert moved.data["promotion"] == promotion.pk and moved.data["after"] == 2
    approved = AuditEvent.objects.get(action="review.promotion.approved")
    assert approved.reason == "reads better" and approved.data["before"] == 1
    assert AuditEvent.objects.filter(action="review.promotion.requested").count() == 1


def test_self_approval_is_refused_in_words(users, project, template,
                                           django_capture_on_commit_callbacks):
    v2 = protected_template(users, project, template)
    promotion = requested(users, template, v2, django_capture_on_commit_callbacks)
    # the creator wrote v2 and cannot review anyway; give the owner their own version
    with pytest.raises(NotPermitted, match="approve prompt promotions"):
        ApprovePromotion(users["creator"], promotion).execute()
    RejectPromotion(users["owner"], promotion, comment="try the owner's text").execute()
    v3 = add_version(template, users["owner"], text="Owner's take: {{ product }}, {{ audience }}.",
                     variables=["product", {"name": "audience", "required": False}],
                     generator_id="dummy-echo")
    own = requested(users, template, v3, django_capture_on_commit_callbacks, by="owner")
    with pytest.raises(NotPermitted, match="You wrote version 3, so someone else must "
                                           "approve its promotion"):
        ApprovePromotion(users["owner"], own).execute()
    assert _production(template).number == 1
    # a reviewer (not the author) may
    ApprovePromotion(users["reviewer"], own).execute()
    assert _production(template) == v3


def test_reject_closes_and_keeps_the_label(users, project, template,
                                           django_capture_on_commit_callbacks):
    v2 = protected_template(users, project, template)
    promotion = requested(users, template, v2, django_capture_on_commit_callbacks)
    with pytest.raises(InvalidInput, match="Say why"):
        RejectPromotion(users["reviewer"], promotion, comment=" ").execute()
    RejectPromotion(users["reviewer"], promotion, comment="too long").execute()
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.REJECTED
    assert _production(template).number == 1
    with pytest.raises(Conflict, match="already rejected"):
        ApprovePromotion(users["owner"], promotion).execute()
    assert AuditEvent.objects.filter(action="review.promotion.rejected").count() == 1


def test_approval_waits_for_the_golden_set(users, project, template,
                                          django_capture_on_commit_callbacks):
    v2 = protected_template(users, project, template)
    promotion = requested(users, template, v2, django_capture_on_commit_callbacks, run=False)
    with pytest.raises(Conflict, match="still generating"):
        ApprovePromotion(users["owner"], promotion).execute()
    run_golden_set(promotion, django_capture_on_commit_callbacks)
    ApprovePromotion(users["owner"], promotion).execute()
    assert _production(template) == v2


def test_request_refusals(users, project, template, django_capture_on_commit_callbacks):
    v1 = template.versions.get(number=1)
    with pytest.raises(InvalidInput, match="not protected"):
        RequestPromotion(users["creator"], template, version=v1.pk, label="production").check()
    v2 = protected_template(users, project, template)
    with pytest.raises(Conflict, match="already points at version 1"):
        RequestPromotion(users["creator"], template, version=v1.pk, label="production").check()
    with pytest.raises(NotFound):
        RequestPromotion(users["creator"], template, version=999999, label="production").check()
    with pytest.raises(NotPermitted):
        RequestPromotion(users["reviewer"], template, version=v2.pk, label="production").check()
    requested(users, template, v2, django_capture_on_commit_callbacks, run=False)
    with pytest.raises(Conflict, match="already waiting"):
        RequestPromotion(users["creator"], template, version=v2.pk, label="production").check()
    save_golden_set(template, users["owner"], samples=[])
    protect_label(project, users["owner"], name="staging", template=template.pk)
    with pytest.raises(InvalidInput, match="no golden set"):
        RequestPromotion(users["creator"], template, version=v2.pk, label="staging").check()


def test_a_new_protected_label_has_no_current_side(users, project, template,
                                                   django_capture_on_commit_callbacks):
    protect_label(project, users["owner"], name="production", template="blurb")
    save_golden_set(template, users["owner"], samples=[{"product": "Kite"}])
    v1 = template.versions.get(number=1)
    promotion = requested(users, template, v1, django_capture_on_commit_callbacks)
    [row] = promotion_rows(promotion)
    assert row.current is None and row.candidate.finished
    ApprovePromotion(users["reviewer"], promotion).execute()
    assert _production(template) == v1


def test_protection_service_rules_and_events(users, project, template):
    with pytest.raises(NotPermitted):
        protect_label(project, users["creator"], name="production")
    with pytest.raises(InvalidInput, match="moves by itself"):
        protect_label(project, users["owner"], name="latest")
    with pytest.raises(InvalidInput, match="lower-case"):
        protect_label(project, users["owner"], name="Prod uction")
    row = protect_label(project, users["owner"], name="production")
    with pytest.raises(InvalidInput, match="already protected"):
        protect_label(project, users["owner"], name="production")
    with pytest.raises(NotFound):
        protect_label(project, users["owner"], name="x", template="nope")
    unprotect_label(project, users["owner"], protection_id=row.pk)
    assert [e.action for e in AuditEvent.objects.filter(
        action__startswith="studio.prompt_label.").exclude(
        action="studio.prompt_label.moved").order_by("id")] == [
        "studio.prompt_label.protected", "studio.prompt_label.unprotected"]
    with pytest.raises(InvalidInput, match="at most 10"):
        save_golden_set(template, users["owner"], samples=[{}] * 11)
    with pytest.raises(InvalidInput, match="Sample 1 must map"):
        save_golden_set(template, users["owner"], samples=[{"product": 3}])
    with pytest.raises(NotPermitted):
        save_golden_set(template, users["reviewer"], samples=[])
