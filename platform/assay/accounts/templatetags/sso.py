"""The sign-in page's "Sign in with <provider>" button, shown only while single sign-on is on.

A tag rather than a context processor: it reads the settings at render time (tests turn
single sign-on on and off) and costs no query.
"""

from __future__ import annotations

from typing import Any

from django import template

from assay.accounts.oidc import enabled, provider_name

register = template.Library()


@register.inclusion_tag("portal/_sso_button.html", takes_context=True)
def sso_button(context: Any) -> dict[str, Any]:
    """The button's context: whether to show it, its label and where to return after."""
    return {"sso_on": enabled(), "sso_name": provider_name(),
            "next": context.get("next", "")}
