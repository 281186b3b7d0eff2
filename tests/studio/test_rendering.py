"""Prompt rendering is bounded while it runs: work, value sizes and output are capped inside
the sandbox, and the template's own arithmetic errors are 400s in words, never a 500."""

from __future__ import annotations

import time

import pytest

from assay.core.exceptions import InvalidInput
from assay.studio.rendering import render

DECLARED = [{"name": "product"}, {"name": "audience", "required": False, "default": "all"}]


def _render(text: str, max_chars: int = 20_000) -> str:
    return render(text, DECLARED, {"product": "Kite"}, max_chars=max_chars,
                  max_variable_chars=4000)


@pytest.mark.parametrize("text,words", [
    ("{{ product * 100000000 }}", "repetition"),
    ("{{ ((10**64)**64)**64 }}", "bits"),
    ("{{ ((2 ** 60) ** 60) ** 60 }}", "bits"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     "steps"),
    ("{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
     "steps"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "calls itself"),
    ("{{ '%0999999999d' % 1 }}", "format width"),
    ("{{ '%*d' % (999999999, 1) }}", "numeric argument"),
    ("{{ '{:>999999999}'.format(1) }}", "format width"),
    ("{{ '{0:{1}}'.format('x', 999999999) }}", "numeric argument"),
    ("{{ 'a'|center(100000000) }}", "numeric argument"),
    ("{{ 'a'.center(100000000) }}", "numeric argument"),
    ("{{ 'a'.ljust(100000000) }}", "numeric argument"),
    ("{{ ('x' * 200000)|replace('', 'y' * 200000) }}", "replace"),
    ("{{ ('x' * 200000).replace('', 'y' * 200000) }}", "replace"),
    ("{{ ('x' * 200000)|list|join('y' * 200000) }}", "join"),
    ("{{ ('a\n' * 100000)|indent('x' * 100000) }}", "indent"),
    ("{{ ('a' * 200000)|wordwrap(1, wrapstring='y' * 1000) }}", "wordwrap"),
    ("{{ [1]|batch(1000000000, 'x')|list }}", "numeric argument"),
    ("{% set ns = namespace(s='xxxxxxxxxx') %}{% for i in range(40) %}"
     "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}", "longer than"),
    ("{% set ns = namespace(s='xxxxxxxxxx') %}{% for i in range(40) %}{% set t %}"
     "{{ ns.s }}{{ ns.s }}{% endset %}{% set ns.s = t %}{% endfor %}{{ ns.s|length }}",
     "writes more than"),
    ("{% for i in range(100000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}", "the limit is"),
    ("{{ 1 // 0 }}", "ZeroDivisionError"),
    ("{{ product - 1 }}", "TypeError"),
    ("{{ (10.0 ** 64) ** 5 }}", "OverflowError"),
    ("{{ lipsum(1000) }}", "lipsum"),
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
])
def test_costly_or_broken_templates_are_refused_quickly(text, words):
    started = time.monotonic()
    with pytest.raises(InvalidInput) as caught:
        _render(text)
    assert time.monotonic() - started < 10
    assert words in caught.value.message, caught.value.message
    assert caught.value.errors


def test_ordinary_templates_still_render():
    text = ("Write about {{ product }} for {{ audience }}. {% for i in range(3) %}"
            "{{ i ~ '-' }}{% endfor %}{{ product|upper }} {{ '%s!' % product }} "
            "{{ '{} {}'.format(product, 2) }} {{ 2 ** 10 }} {{ (product * 3)|length }}")
    assert _render(text) == ("Write about Kite for all. 0-1-2-KITE Kite! Kite 2 1024 12")


def test_a_long_result_is_refused_while_rendering_not_after(monkeypatch):
    """The output stops at max_chars: the rest is never produced."""
    import assay.studio.rendering as rendering

    produced = []
    original = rendering._emit

    def counting(context, value):
        produced.append(value)
        return original(context, value)

    monkeypatch.setitem(rendering._env.filters, "_assay_emit", rendering.jinja2.pass_context(
        lambda context, value: counting(context, value)))
    with pytest.raises(InvalidInput, match="the limit is 100"):
        _render("{% for i in range(10000) %}{{ product }}{% endfor %}", max_chars=100)
    assert len(produced) < 100
