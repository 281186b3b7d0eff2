"""The header's inbox link: its unread count in one query, only for a signed-in user."""

from __future__ import annotations

from typing import Any

from django import template

from governance.review import inbox

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_unread(context: template.Context) -> int:
    """Unread inbox entries of the signed-in user (``governance.review.inbox``): one
    query per page rendered, never one per entry."""
    request: Any = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return inbox.unread_count(user) if getattr(user, "is_authenticated", False) else 0
