"""Each user's inbox: who gets which entry, due soon, scoping, "mark all read", REST.

Entries are written by the review policy in the decision's transaction; "due soon" is
derived from a review request still awaiting its reader. A user never reads another
user's entries, nor entries of a project they can no longer see.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assay.studio.models import Membership
from governance.review import brand, inbox, workflow
from governance.review.choices import InboxKind
from governance.review.models import Review
from tests.review.queue_factories import hours_ago, make_review

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def kinds(user: Any) -> list[tuple[str, int]]:
    """(kind, review id) of every entry in ``user``'s inbox, newest first."""
    entries, _, _ = inbox.inbox(user)
    return [(e.kind, e.review.pk) for e in entries]


def decide(user: Any, review: Review, decision: str, comment: str = "") -> Review:
    return workflow.decide(user, review, decision=decision,
                           content_sha256=review.content_sha256, comment=comment)


def test_a_new_review_is_requested_of_its_deciders_only(users, project):
    review = make_review(project, users["creator"])
    assert kinds(users["reviewer"]) == [(InboxKind.REVIEW_REQUESTED, review.pk)]
    assert kinds(users["owner"]) == [(InboxKind.REVIEW_REQUESTED, review.pk)]
    for name in ("creator", "outsider", "auditor", "admin"):
        assert kinds(users[name]) == [], name


def test_the_next_stage_is_requested_of_whoever_can_decide_it(users, project):
    brand.update_policy(users["owner"], project, {"stages": [
        {"name": "brand", "approvals_required": 1, "roles": ["reviewer", "owner"]},
        {"name": "legal", "approvals_required": 1, "roles": ["reviewer", "owner"]}]})
    review = make_review(project, users["creator"])
    decide(users["reviewer"], review, "approve")
    # rui approved "brand", so "legal" is for olga alone.
    assert kinds(users["owner"]) == [(InboxKind.REVIEW_REQUESTED, review.pk)] * 2
    entries, _, _ = inbox.inbox(users["owner"])
    assert [e.item.stage_name for e in entries] == ["legal", "brand"]
    assert kinds(users["reviewer"]) == [(InboxKind.REVIEW_REQUESTED, review.pk)]
    assert kinds(users["creator"]) == []


@pytest.mark.parametrize(("decision", "kind", "words"), [
    ("request_changes", InboxKind.CHANGES_REQUESTED,
     "rui requested changes to your text asset in Launch."),
    ("reject", InboxKind.REJECTED, "rui rejected your text asset in Launch."),
    ("approve", InboxKind.APPROVED, "rui approved your text asset in Launch; it will be signed."),
])
def test_the_outcome_goes_to_the_creator_only_with_the_e_mail(users, project, decision, kind,
                                                              words, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    monkeypatch.setattr("governance.review.signals.get_plugins", lambda: _NoHooks())
    users["creator"].email = "cara@example.com"
    users["creator"].save()
    review = make_review(project, users["creator"])
    with django_capture_on_commit_callbacks(execute=True):
        decide(users["reviewer"], review, decision, comment="Mention the warranty.")
    assert kinds(users["creator"]) == [(kind, review.pk)]
    entry = inbox.inbox(users["creator"])[0][0]
    assert entry.message == words
    assert entry.item.actor_name == "rui" and entry.item.note == "Mention the warranty."
    assert kinds(users["reviewer"]) == [(InboxKind.REVIEW_REQUESTED, review.pk)]
    assert (InboxKind(kind), review.pk) not in kinds(users["owner"])
    assert mail.outbox[-1].to == ["cara@example.com"]
    assert mail.outbox[-1].subject.startswith("[Assay] Your asset was ")


class _NoHooks:
    """No asset_approved hook (signing is not under test here)."""

    class pm:  # noqa: N801 - mimics the plugin manager's attribute
        class hook:  # noqa: N801
            @staticmethod
            def asset_approved(**kwargs: Any) -> None:
                return None


def test_due_soon_appears_while_the_review_still_awaits_its_reader(users, project):
    brand.update_policy(users["owner"], project, {"stages": [
        {"name": "review", "approvals_required": 2, "roles": ["reviewer", "owner"],
         "due_hours": 48}]})
    now = timezone.now()
    soon = make_review(project, users["creator"], started=hours_ago(now, 30))  # due in 18 h
    later = make_review(project, users["creator"])  # due in 48 h: not yet due soon
    for name in ("reviewer", "owner"):
        assert (InboxKind.DUE_SOON, soon.pk) in kinds(users[name])
        assert (InboxKind.DUE_SOON, later.pk) not in kinds(users[name])
    assert not any(k == InboxKind.DUE_SOON for k, _ in kinds(users["creator"]))
    # Once rui has decided at this stage it no longer awaits him; olga still has it.
    decide(users["reviewer"], soon, "approve")
    assert (InboxKind.DUE_SOON, soon.pk) not in kinds(users["reviewer"])
    assert (InboxKind.DUE_SOON, soon.pk) in kinds(users["owner"])
    # Finished: due soon for nobody.
    decide(users["owner"], soon, "approve")
    assert (InboxKind.DUE_SOON, soon.pk) not in kinds(users["owner"])
    # Overdue reads as overdue.
    late = make_review(project, users["creator"], started=hours_ago(now, 50))
    entry = next(e for e in inbox.inbox(users["owner"])[0]
                 if e.kind == InboxKind.DUE_SOON and e.review.pk == late.pk)
    assert entry.overdue and entry.message.endswith("is overdue.")


def test_entries_never_leak_across_users_or_projects(users, project, other_project):
    mine = make_review(project, users["creator"])
    theirs = make_review(other_project, users["outsider"])  # cara reviews in "secret"
    assert kinds(users["creator"]) == [(InboxKind.REVIEW_REQUESTED, theirs.pk)]
    assert (InboxKind.REVIEW_REQUESTED, theirs.pk) not in kinds(users["reviewer"])
    assert kinds(users["outsider"]) == []
    rest = api(users["reviewer"]).get("/api/v1/inbox/").json()
    assert {row["review"] for row in rest["results"]} == {mine.pk}
    # Cara leaves "secret": its entries leave her inbox (and its unread count).
    Membership.objects.filter(user=users["creator"], project=other_project).delete()
    assert kinds(users["creator"]) == []
    assert inbox.unread_count(users["creator"]) == 0
    assert api(users["creator"]).get("/api/v1/inbox/").json()["count"] == 0


def test_mark_all_read_in_the_portal_and_over_rest(users, project, client):
    first = make_review(project, users["creator"])
    rui = users["reviewer"]
    assert inbox.unread_count(rui) == 1
    client.force_login(rui)
    page = client.get(reverse("portal:inbox")).content.decode()
    assert 'id="inbox-unread"' in page and 'class="badge badge-unread">New</span>' in page
    done = client.post(reverse("portal:inbox_read"))
    assert done.status_code == 302 and done["Location"] == reverse("portal:inbox")
    assert inbox.unread_count(rui) == 0
    page = client.get(reverse("portal:inbox")).content.decode()
    assert 'id="inbox-unread"' not in page and ">New</span>" not in page
    assert f'data-review="{first.pk}"' in page  # read entries stay listed

    second = make_review(project, users["creator"])
    body = api(rui).get("/api/v1/inbox/").json()
    assert body["unread"] == 1
    assert [(r["review"], r["unread"]) for r in body["results"]] == [(second.pk, True),
                                                                     (first.pk, False)]
    marked = api(rui).post("/api/v1/inbox/read/", {}, format="json")
    assert marked.status_code == 200 and marked.json()["unread"] == 0
    refused = api(rui).post("/api/v1/inbox/read/", {"all": True}, format="json")
    assert refused.status_code == 400 and "all" in refused.json()["errors"]
    assert inbox.unread_count(users["owner"]) == 2  # rui's marks are his alone


def test_an_anonymous_caller_gets_no_inbox(client):
    assert APIClient().get("/api/v1/inbox/").status_code in (401, 403)
    assert client.get(reverse("portal:inbox")).status_code == 302  # to the sign-in page


def test_the_unread_count_is_one_query(users, project, django_assert_num_queries):
    for _ in range(5):
        make_review(project, users["creator"], started=hours_ago(timezone.now(), 30))
    with django_assert_num_queries(1):
        assert inbox.unread_count(users["reviewer"]) == 10  # 5 requests + 5 due soon


def test_inbox_queries_do_not_grow_with_the_entries(users, project, client,
                                                    django_assert_max_num_queries):
    make_review(project, users["creator"])
    client.force_login(users["reviewer"])
    with django_assert_max_num_queries(7) as few:
        assert client.get(reverse("portal:inbox")).status_code == 200
    with django_assert_max_num_queries(5) as rest:
        api(users["reviewer"]).get("/api/v1/inbox/")
    for _ in range(8):
        review = make_review(project, users["creator"], started=hours_ago(timezone.now(), 30))
        decide(users["owner"], review, "request_changes", comment="Shorter, please.")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("portal:inbox")).content.decode()
    assert html.count('class="inbox-entry') == 9
    with django_assert_max_num_queries(len(rest.captured_queries)):
        assert api(users["reviewer"]).get("/api/v1/inbox/").json()["count"] == 9
    assert api(users["creator"]).get("/api/v1/inbox/").json()["count"] == 8
