"""Owner-written disclaimer patterns are compiled with RE2 when the brand kit is saved.

A pattern the linear-time matcher cannot run (backreferences, lookarounds) is refused then,
as a 400 that says what to change, rather than ignored with a warning at every check run.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from assay.core.exceptions import InvalidInput
from governance.review import brand
from governance.review.models import BrandKit

pytestmark = pytest.mark.django_db


def kit(*triggers: str) -> dict:
    return {"voice": "", "banned_terms": [],
            "disclaimers": [{"text": "Terms apply.", "triggers": list(triggers)}]}


def saved_triggers(project) -> list[list[str]]:
    return [d["triggers"] for d in BrandKit.objects.get(project=project).disclaimers]


def test_a_pattern_re2_cannot_run_is_refused_with_what_to_change(users, project):
    brand.update_brand_kit(users["owner"], project, kit("regex:no\\s+purchase"))
    events = AuditEvent.objects.filter(action="review.brand_kit.updated").count()
    with pytest.raises(InvalidInput) as caught:
        brand.update_brand_kit(users["owner"], project, kit("price", "regex:free(?! trial)"))
    assert caught.value.message.startswith("disclaimers[0]: the pattern 'free(?! trial)' uses "
                                           "a negative lookahead (?!...)")
    assert "use \\b for a word boundary" in caught.value.message
    assert list(caught.value.errors) == ["disclaimers.0.triggers"]
    assert saved_triggers(project) == [["regex:no\\s+purchase"]]
    assert AuditEvent.objects.filter(action="review.brand_kit.updated").count() == events


@pytest.mark.parametrize(("pattern", "advice"), [
    ("(a)\\1", "backreference"),
    ("(?<=\\$)\\d+", "lookbehind"),
    ("[unclosed", "is not a valid regular expression"),
])
def test_each_refusal_names_its_cause(users, project, pattern, advice):
    with pytest.raises(InvalidInput, match=advice):
        brand.update_brand_kit(users["owner"], project, kit(f"regex:{pattern}"))


def test_patterns_that_backtrack_in_python_re_are_accepted(users, project):
    """(a|a)+$ held a worker for 19 s on 26 characters under ``re``; RE2 runs it linearly."""
    brand.update_brand_kit(users["owner"], project, kit("regex:(a|a)+$", "regex:(a+)+$"))
    assert saved_triggers(project) == [["regex:(a|a)+$", "regex:(a+)+$"]]


def test_the_rest_api_answers_400_and_changes_nothing(users, project):
    owner = APIClient()
    owner.force_authenticate(users["owner"])
    url = f"/api/v1/projects/{project.slug}/brand-kit/"
    assert owner.put(url, kit("percentage"), format="json").status_code == 200
    answer = owner.put(url, kit("regex:(?<!no )purchase"), format="json")
    assert answer.status_code == 400
    assert "negative lookbehind (?<!...)" in answer.json()["detail"]
    assert saved_triggers(project) == [["percentage"]]
