"""The queue, my submissions and inbox pages as people read them: checks and due times in
words, thumbnails and excerpts, pages that keep their filters, the header's inbox link,
and a creator's next step."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.review import workflow
from tests.review.queue_factories import hours_ago, make_review

pytestmark = pytest.mark.django_db


def html_of(client: Any, user: Any, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode().replace("\xa0", " ")  # timesince's no-break spaces


def row(html: str, review_id: int) -> str:
    match = re.search(rf'<tr class="queue-row" data-review="{review_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for review {review_id}"
    return match.group(1)


def test_queue_rows_read_in_words(client, users, project):
    now, cara = timezone.now(), users["creator"]
    passed = make_review(project, cara, checks=("pass", "pass"),
                         text="Meet the Kite, the kettle that boils in a minute.")
    needs = make_review(project, cara, checks=("pass", "warn"), started=hours_ago(now, 45))
    failed = make_review(project, cara, kind="image", checks=("fail", "warn", "warn"),
                         started=hours_ago(now, 72))
    unchecked = make_review(project, cara, checks=())
    html = html_of(client, users["reviewer"], reverse("portal:reviews"))

    assert "All checks passed" in row(html, passed.pk)
    assert "Meet the Kite, the kettle that boils in a minute." in row(html, passed.pk)
    assert "Due in 2 days" in row(html, passed.pk) and "just now" in row(html, passed.pk)
    assert "1 needs a look" in row(html, needs.pk) and "Due in 3 hours" in row(html, needs.pk)
    image = row(html, failed.pk)
    assert "1 failed, 2 need a look" in image
    assert "Overdue by 1 day" in image and "due-overdue" in image
    thumb = reverse("portal:asset_content", args=[failed.asset_id])
    assert f'<img class="queue-thumb" src="{thumb}"' in image
    assert "No checks ran" in row(html, unchecked.pk)
    assert "0 minutes" not in html
    assert failed.asset.sha256 not in html and "check-0" not in html  # no codes or hashes


def test_the_queue_pages_and_keeps_its_filters(client, users, project):
    for _ in range(27):
        make_review(project, users["creator"], checks=("warn",))
    url = reverse("portal:reviews") + "?checks=attention&sort=newest"
    first = html_of(client, users["reviewer"], url)
    assert first.count('class="queue-row"') == 25
    assert '<span class="badge" id="waiting-count">27</span>' in first
    assert 'href="?checks=attention&amp;sort=newest&amp;page=2" rel="next"' in first
    second = html_of(client, users["reviewer"], url + "&page=2")
    assert second.count('class="queue-row"') == 2 and "Page 2 of 2" in second
    assert '<option value="attention" selected>' in second
    assert '<option value="newest" selected>' in second


def test_filters_that_match_nothing_say_so(client, users, project):
    make_review(project, users["creator"])
    html = html_of(client, users["reviewer"], reverse("portal:reviews") + "?modality=video")
    assert "Nothing waiting for you matches these filters." in html


def test_the_header_links_the_inbox_with_its_unread_count(client, users, project):
    html = html_of(client, users["reviewer"], reverse("portal:home"))
    assert f'<a href="{reverse("portal:inbox")}" id="nav-inbox">Inbox</a>' in html
    make_review(project, users["creator"])
    make_review(project, users["creator"])
    html = html_of(client, users["reviewer"], reverse("portal:home"))
    assert ('id="inbox-unread" title="Unread">2<span class="visually-hidden"> unread</span>'
            in html)
    assert "{# nav:" not in html


def test_my_submissions_says_where_each_stands_and_what_to_do(client, users, project):
    cara, rui = users["creator"], users["reviewer"]
    waiting = make_review(project, cara)
    sent_back = make_review(project, cara, checks=("warn",))
    workflow.decide(rui, sent_back, decision="request_changes",
                    content_sha256=sent_back.content_sha256, comment="Name the price.")
    html = html_of(client, cara, reverse("portal:my_submissions"))
    line = row(html, sent_back.pk)
    assert "Changes requested" in line and "Name the price." in line
    assert (f'<a href="{reverse("portal:asset", args=[sent_back.asset_id])}" '
            'class="button button-primary">Changes requested: revise it</a>') in line
    assert "In review" in row(html, waiting.pk)
    assert "at stage “review”, due in 2 days" in row(html, waiting.pk)
    # The reviewer has no submissions; the filter for state narrows them.
    assert 'class="queue-row"' not in html_of(client, rui, reverse("portal:my_submissions"))
    narrowed = html_of(client, cara, reverse("portal:my_submissions") + "?status=changes_requested")
    assert narrowed.count('class="queue-row"') == 1


def test_the_creator_reads_changes_requested_in_the_inbox(client, users, project):
    review = make_review(project, users["creator"])
    workflow.decide(users["reviewer"], review, decision="request_changes",
                    content_sha256=review.content_sha256, comment="Name the price.")
    html = html_of(client, users["creator"], reverse("portal:inbox"))
    entry = re.search(r'<li class="inbox-entry inbox-changes_requested inbox-unread"(.*?)</li>',
                      html, re.S)
    assert entry, html
    assert "rui requested changes to your text asset in Launch." in entry.group(1)
    assert "Name the price." in entry.group(1)
    assert (f'href="{reverse("portal:asset", args=[review.asset_id])}">Changes requested: '
            "revise it</a>") in entry.group(1)
    assert "just now" in entry.group(1).lower()


def test_queue_pages_need_a_sign_in(client):
    for name in ("portal:reviews", "portal:my_submissions", "portal:inbox"):
        assert client.get(reverse(name)).status_code == 302
    assert client.post(reverse("portal:inbox_read")).status_code == 302
    assert client.get(reverse("portal:inbox_read")).status_code in (302, 405)
