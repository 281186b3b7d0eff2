"""Two rules every portal page keeps, checked over one table of pages.

(a) Its query count stays within a tight budget (a new N+1 shows up here first).
(b) Its VISIBLE text never shows a raw parameter name, plugin id, check id or a 64-hex
    SHA-256: those belong in a <details> fold ("Details", the advanced settings), whose
    contents (except its <summary>) are dropped before looking.

To cover a new page, add a row to PAGES: the URL name, who looks at it, how to get its
URL arguments from the shared ``world`` (and an optional query string), and its budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assay.plugins.manager import get_plugins
from governance.review.models import Review
from governance.review.styles import create_style
from tests.conftest import generate_checked
from tests.publishing.helpers import endpoint_with_log

pytestmark = pytest.mark.django_db

World = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One portal page: how to reach it and how many queries it may make."""

    url_name: str
    budget: int
    user: str = "creator"
    args: Callable[[World], list[Any]] = field(default=lambda world: [])
    query: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.url_name.split(":")[-1] + (f"?{self.query}" if self.query else "")


#: Every portal page a signed-in person reads. Budgets are what each page made when it was
#: last measured (session, user, the page's own reads, the header's inbox count): a page
#: that needs more must say why here.
PAGES = [
    # home: + the review queue's "could I decide it?" facts (open reviews, my roles, my
    # decisions: 3) before one annotated projects query with my role and pending work
    Page("portal:home", 7),
    # members: the project, the manage check, the members, the pending invitations
    Page("portal:project_members", 8, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:project_edit", 5, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:teams", 6, user="admin"),  # teams, their projects (prefetched), a count
    Page("portal:project", 10, args=lambda w: [w["project"].slug]),
    Page("portal:project_manage", 6, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:generate", 10, args=lambda w: [w["project"].slug]),
    Page("portal:job", 10, args=lambda w: [w["job"].pk]),
    Page("portal:job_status", 7, args=lambda w: [w["job"].pk]),
    Page("portal:tokens", 4),
    Page("portal:reviews", 11, user="reviewer"),
    Page("portal:review", 12, user="reviewer", args=lambda w: [w["review"].pk]),
    Page("portal:verify", 3),
    Page("portal:assets", 8),
    Page("portal:asset", 13, args=lambda w: [w["asset"].pk]),
    Page("portal:my_submissions", 8),
    Page("portal:inbox", 5),
    # the admin screens: plugins and signing read no table; tokens: the rows and the
    # users to filter by; health: the database probe, the workers and the queued jobs
    Page("portal:admin_index", 3, user="admin"),
    Page("portal:admin_plugins", 3, user="admin"),
    Page("portal:admin_signing", 3, user="admin"),
    Page("portal:admin_tokens", 5, user="admin"),
    Page("portal:admin_health", 6, user="admin"),
    Page("portal:audit", 6, user="auditor"),
    Page("portal:usage_dashboard", 8, user="auditor"),
    # webhooks (owners): the endpoints; one endpoint with its log (deliveries, attempts)
    Page("portal:webhooks", 6, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:webhook", 9, user="owner", args=lambda w: [
        w["project"].slug, endpoint_with_log(w["project"], w["users"]["owner"])[0].pk]),
    Page("portal:brand_kit", 7, user="owner", args=lambda w: [w["project"].slug]),
    # brand styles: the project (2) and the manage check, the styles (references joined),
    # the approved images offered as references; one style: + the style by id, through
    # the service's own membership check (3)
    Page("portal:brand_styles", 8, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:brand_style", 10, user="owner", args=lambda w: [
        w["project"].slug, create_style(w["users"]["owner"], w["project"],
                                        {"name": "Budget", "steps": 8}).pk]),
    Page("portal:facts", 7, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:review_policy", 7, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:project_quotas", 11, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:project_models", 8, user="owner", args=lambda w: [w["project"].slug]),
    Page("portal:prompts", 8, args=lambda w: [w["project"].slug]),
    # the template page: + the protected label names (one query)
    Page("portal:prompt", 11, args=lambda w: [w["project"].slug, w["template"].slug]),
    Page("portal:prompt_new", 6, args=lambda w: [w["project"].slug]),
    Page("portal:prompt_version_new", 9,
         args=lambda w: [w["project"].slug, w["template"].slug]),
    # governed promotion: the list with its forms (the review page with a promotion is
    # measured in tests/portal/test_promotion_pages.py, whose world has one)
    Page("portal:promotions", 10, user="owner", args=lambda w: [w["project"].slug]),
]


@pytest.fixture
def world(users, project, template, django_capture_on_commit_callbacks) -> World:
    """A project with one generated, checked text whose review is open."""
    asset = generate_checked(users["creator"], project, django_capture_on_commit_callbacks)
    return {"users": users, "project": project, "template": template, "asset": asset,
            "job": asset.job, "review": Review.objects.get(asset=asset)}


def _get(world: World, page: Page) -> tuple[Any, int]:
    client = Client()
    client.force_login(world["users"][page.user])
    url = reverse(page.url_name, args=page.args(world))
    client.get(url, page.query)  # warm caches (content types, plugins) outside the count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, page.query)
    return response, len(queries)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.id)
def test_query_budget(world, page):
    response, count = _get(world, page)
    assert response.status_code == 200, response.content[:500]
    assert count <= page.budget, f"{page.id}: {count} queries, budget {page.budget}"


# -- (b) raw names ------------------------------------------------------------------------
class VisibleText(HTMLParser):
    """The text a person sees: no <script>/<style>/<template>, nothing `hidden`, and of a
    closed <details> only its <summary>. Attribute values are not text."""

    SKIP = {"script", "style", "template", "noscript"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hides its content)

    def _visible(self) -> bool:
        for index, (tag, hides) in enumerate(self.stack):
            opens_summary = (tag == "details" and index + 1 < len(self.stack)
                             and self.stack[index + 1][0] == "summary")
            if hides and not opens_summary:
                return False
        return True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        names = dict(attrs)
        self.stack.append((tag, tag in self.SKIP or "hidden" in names
                           or (tag == "details" and "open" not in names)))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if self._visible():
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def raw_names() -> list[re.Pattern[str]]:
    """Raw parameter names, plugin, generator and check ids, and SHA-256 digests."""
    plugins = get_plugins()
    names = {"max_new_tokens", "top_p", "num_images", "temperature", "step_seconds", "seed"}
    for cls in plugins.generators.values():
        names.update(p.name for p in cls.all_parameters() if "_" in p.name)
    # Ids that are plain words ("profanity", "factuality") may appear in sentences; ids
    # built like identifiers ("banned-terms", "image_diffusers") may not.
    ids = {*plugins.generators, *plugins.checks, *(s.name for s in plugins.statuses)}
    names.update(i for i in ids if "-" in i or "_" in i)
    patterns = [re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])") for name in sorted(names)]
    return [*patterns, re.compile(r"\b[0-9a-f]{64}\b")]


def test_the_visible_text_parser_drops_closed_folds_but_keeps_their_summary():
    html = ("<p>Shown <code>top_p</code></p><details><summary>Details</summary>"
            "<p>max_new_tokens</p></details><details open><summary>Open</summary>"
            "<p>num_images</p></details><script>seed</script><div hidden>step_seconds</div>")
    assert visible_text(html) == "Shown top_p Details Open num_images"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.id)
def test_no_raw_names_in_visible_text(world, page):
    response, _ = _get(world, page)
    text = visible_text(response.content.decode())
    shown = sorted({m.group(0) for pattern in raw_names() for m in pattern.finditer(text)})
    assert not shown, f"{page.id} shows {shown} outside a Details fold"
