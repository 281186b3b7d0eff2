"""The review queue's filters and sorting: each narrows as it says, the REST list and the
portal queue agree (one FilterSet), outsiders see nothing, and the query count does not
grow with the rows.

Reviews are built directly (``queue_factories``): rui reviews cara's assets in two
projects; ``spring`` has a "brand" stage due after 10 hours, ``launch`` the default
"review" stage due after 48.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assay.accounts.choices import ProjectRole
from governance.review import brand
from tests.conftest import _project
from tests.review.queue_factories import hours_ago, make_review

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rest_ids(user: Any, query: str = "", base: str = "awaiting_me=true") -> list[int]:
    response = api(user).get(f"/api/v1/reviews/?{base}&{query}")
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def portal_ids(user: Any, query: str = "", name: str = "portal:reviews") -> list[int]:
    response = signed_in(user).get(f"{reverse(name)}?{query}")
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr class="queue-row" data-review="(\d+)"',
                                         response.content.decode())]


@pytest.fixture
def spring(team: Any, users: dict[str, Any]) -> Any:
    project = _project(team, "spring", {
        "creator": (users["creator"], ProjectRole.CREATOR),
        "reviewer": (users["reviewer"], ProjectRole.REVIEWER),
        "owner": (users["owner"], ProjectRole.OWNER)})
    brand.update_policy(users["owner"], project, {"stages": [
        {"name": "brand", "approvals_required": 1, "roles": ["reviewer"], "due_hours": 10},
        {"name": "legal", "approvals_required": 1, "roles": ["owner"], "due_hours": 10}]})
    return project


@pytest.fixture
def queue(users: dict[str, Any], project: Any, spring: Any, other_project: Any) -> dict:
    """Four reviews awaiting rui, one he cannot see."""
    now, cara = timezone.now(), users["creator"]
    made = {
        "passed": make_review(project, cara, checks=("pass",)),  # due in 48 hours
        "attention": make_review(project, cara, checks=("pass", "warn"),
                                 started=hours_ago(now, 30)),  # due in 18 hours
        "failed": make_review(project, cara, kind="image", checks=("fail", "warn"),
                              started=hours_ago(now, 50)),  # overdue by 2 hours
        "unchecked": make_review(spring, cara, checks=()),  # due in 10 hours, stage brand
    }
    made["hidden"] = make_review(other_project, users["outsider"], checks=("fail",))
    return {name: review.pk for name, review in made.items()}


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"passed", "attention", "failed", "unchecked"}),
    ("modality=image", {"failed"}),
    ("modality=text", {"passed", "attention", "unchecked"}),
    ("checks=failed", {"failed"}),
    ("checks=attention", {"attention"}),
    ("checks=passed", {"passed"}),
    ("checks=unchecked", {"unchecked"}),
    ("due=overdue", {"failed"}),
    ("due=soon", {"attention", "unchecked"}),
    ("project=spring", {"unchecked"}),
    ("stage=brand", {"unchecked"}),
    ("stage=REVIEW", {"passed", "attention", "failed"}),
    ("project=launch&modality=text&due=soon", {"attention"}),
    ("checks=failed&project=spring", set()),
])
def test_each_filter_narrows_the_same_way_in_rest_and_the_portal(users, queue, query,
                                                                 expected):
    rui = users["reviewer"]
    want = {queue[name] for name in expected}
    assert set(rest_ids(rui, query)) == want
    assert set(portal_ids(rui, query)) == want


@pytest.mark.parametrize(("sort", "order"), [
    ("due", ["failed", "unchecked", "attention", "passed"]),
    ("newest", ["unchecked", "failed", "attention", "passed"]),
    ("oldest", ["passed", "attention", "failed", "unchecked"]),
])
def test_sorting_agrees_between_rest_and_the_portal(users, queue, sort, order):
    rui = users["reviewer"]
    want = [queue[name] for name in order]
    assert rest_ids(rui, f"sort={sort}") == want
    assert portal_ids(rui, f"sort={sort}") == want


def test_the_portal_queue_sorts_due_first_by_default(users, queue):
    assert portal_ids(users["reviewer"]) == [queue[n] for n in
                                             ("failed", "unchecked", "attention", "passed")]


def test_mine_lists_the_creators_submissions_in_rest_and_the_portal(users, queue):
    cara, rui = users["creator"], users["reviewer"]
    mine = {queue[n] for n in ("passed", "attention", "failed", "unchecked")}
    assert set(rest_ids(cara, "", base="mine=true")) == mine
    assert set(portal_ids(cara, "", name="portal:my_submissions")) == mine
    assert rest_ids(rui, "", base="mine=true") == []
    assert portal_ids(rui, "", name="portal:my_submissions") == []
    # The same filters narrow the submissions too.
    assert set(rest_ids(cara, "checks=failed", base="mine=true")) == {queue["failed"]}
    assert portal_ids(cara, "checks=failed", name="portal:my_submissions") == [queue["failed"]]
    # Nothing of her own awaits a creator; she reviews otto's asset in "secret".
    assert rest_ids(cara) == portal_ids(cara) == [queue["hidden"]]


def test_an_outsider_sees_nothing_anywhere(users, queue):
    otto = users["outsider"]  # creator of the hidden review, member of no other project
    assert rest_ids(otto) == [] and portal_ids(otto) == []
    assert set(rest_ids(otto, "", base="mine=true")) == {queue["hidden"]}
    assert queue["hidden"] not in rest_ids(users["reviewer"], "", base="status=in_review")
    html = signed_in(users["reviewer"]).get(reverse("portal:reviews")).content.decode()
    assert f'data-review="{queue["hidden"]}"' not in html


def test_a_bad_filter_value_is_a_400_with_words_and_a_message_in_the_portal(users, queue):
    response = api(users["reviewer"]).get("/api/v1/reviews/?checks=bogus&sort=sideways")
    assert response.status_code == 400
    body = response.json()
    assert "checks" in body["errors"] and "sort" in body["errors"]
    page = signed_in(users["reviewer"]).get(reverse("portal:reviews") + "?checks=bogus")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="filter-errors"' in html and "Checks: Select a valid choice." in html
    assert 'data-review="' not in html


def test_queue_queries_do_not_grow_with_the_rows(users, project, queue,
                                                 django_assert_max_num_queries):
    rui, cara = signed_in(users["reviewer"]), users["creator"]
    with django_assert_max_num_queries(12) as few:
        assert rui.get(reverse("portal:reviews")).status_code == 200
    for _ in range(6):
        make_review(project, cara, kind="image", checks=("pass", "warn", "fail"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = rui.get(reverse("portal:reviews")).content.decode()
    assert html.count('class="queue-row"') == 10


def test_my_submissions_queries_do_not_grow_with_the_rows(users, project, queue,
                                                          django_assert_max_num_queries):
    cara = signed_in(users["creator"])
    with django_assert_max_num_queries(10) as few:
        assert cara.get(reverse("portal:my_submissions")).status_code == 200
    for _ in range(6):
        make_review(project, users["creator"], checks=("warn",))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = cara.get(reverse("portal:my_submissions")).content.decode()
    assert html.count('class="queue-row"') == 10


def test_the_rest_list_queries_do_not_grow_with_the_rows(users, project, queue,
                                                         django_assert_max_num_queries):
    client = api(users["reviewer"])
    with django_assert_max_num_queries(12) as few:
        client.get("/api/v1/reviews/?awaiting_me=true&checks=failed&sort=due")
    for _ in range(4):
        make_review(project, users["creator"], checks=("fail",))
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = client.get("/api/v1/reviews/?awaiting_me=true&checks=failed&sort=due").json()
    assert rows["count"] == 5
