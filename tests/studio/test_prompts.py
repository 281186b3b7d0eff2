"""Prompt templates: immutable versions, movable labels, sandboxed rendering."""

import pytest

from assay.audit.models import AuditEvent
from assay.core.exceptions import InvalidInput, NotPermitted
from assay.studio.models import PromptVersion
from assay.studio.rendering import render
from assay.studio.services.prompts import add_version, move_label

pytestmark = pytest.mark.django_db

DECLARED = [{"name": "product", "required": True, "default": ""},
            {"name": "tone", "required": False, "default": "warm"}]


def r(text, values, **kw):
    return render(text, DECLARED, values, max_chars=kw.get("max_chars", 1000),
                  max_variable_chars=kw.get("max_variable_chars", 100))


def test_render_uses_defaults_and_values():
    assert r("{{ product }} is {{ tone }}", {"product": "Kite"}) == "Kite is warm"


@pytest.mark.parametrize("text,values,message", [
    ("{{ product }}", {}, "'product' is required"),
    ("{{ product }}", {"product": "a", "extra": "b"}, "'extra' is not a declared variable"),
    ("{{ product }}", {"product": "x" * 101}, "limit is 100"),
    ("{{ product }}", {"product": ["list"]}, "must be text or a number"),
    ("{{ product.__class__.__mro__ }}", {"product": "a"}, "sandbox"),
    ("{{ product * 1000000 }}", {"product": "abc"}, "sandbox"),
    ("{% for i in range(10) %}{{ product }}{% endfor %}", {"product": "y" * 100}, "limit is 50"),
])
def test_render_refusals_say_what_to_fix(text, values, message):
    with pytest.raises(InvalidInput) as exc:
        r(text, values, max_chars=50)
    assert message in exc.value.message


def test_versions_are_numbered_immutable_and_audited(template, users):
    v2 = add_version(template, users["creator"], text="New {{ product }}",
                     variables=["product"], generator_id="dummy-echo")
    assert v2.number == 2
    assert template.labels.get(name="latest").version == v2
    v2.text = "edited"
    with pytest.raises(ValueError, match="immutable"):
        v2.save()
    assert PromptVersion.objects.get(pk=v2.pk).text == "New {{ product }}"
    assert AuditEvent.objects.filter(action="studio.prompt_version.created").count() == 2


def test_labels_move_and_are_audited(template, users):
    v1 = template.latest_version()
    v2 = add_version(template, users["creator"], text="B {{ product }}", variables=["product"],
                     generator_id="dummy-echo")
    move_label(template, users["owner"], name="production", version=v1)
    move_label(template, users["owner"], name="production", version=v2)
    event = AuditEvent.objects.filter(action="studio.prompt_label.moved").last()
    assert event.data == {"label": "production", "before": 1, "after": 2}
    assert event.actor_display == "olga"


def test_a_version_must_declare_what_it_uses(template, users):
    with pytest.raises(InvalidInput, match="does not declare: colour"):
        add_version(template, users["creator"], text="{{ product }} in {{ colour }}",
                    variables=["product"], generator_id="dummy-echo")
    with pytest.raises(InvalidInput, match="syntax error"):
        add_version(template, users["creator"], text="{{ product ", variables=["product"],
                    generator_id="dummy-echo")
    with pytest.raises(InvalidInput, match="No generator 'nope'"):
        add_version(template, users["creator"], text="{{ product }}", variables=["product"],
                    generator_id="nope")


def test_reviewers_cannot_write_prompts(template, users):
    with pytest.raises(NotPermitted, match="is reviewer"):
        add_version(template, users["reviewer"], text="x", variables=[],
                    generator_id="dummy-echo")
