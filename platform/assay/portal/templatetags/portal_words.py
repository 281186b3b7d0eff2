"""Template filters that put values into the words people read on portal pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from assay.portal import words

register = template.Library()


@register.filter
def duration_words(value: timedelta | None) -> str:
    """``timedelta(minutes=90)`` → "1 hour 30 minutes" (rounded up to whole minutes)."""
    if not isinstance(value, timedelta):
        return ""
    minutes = max(1, -(-int(value.total_seconds()) // 60))
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


@register.filter
def ago(value: datetime | None, now: datetime | None = None) -> str:
    """"3 minutes ago", "2 days, 4 hours ago"; "just now" under a minute (not "0 minutes
    ago", as ``timesince`` alone says)."""
    if not isinstance(value, datetime):
        return ""
    now = now or timezone.now()
    if (now - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value, now)} ago"


@register.filter
def generator_words(generator_id: str) -> str:
    """A generator id → its name in words (see ``assay.portal.words``)."""
    return words.generator_words(str(generator_id or ""))


@register.filter
def variables_words(variables: object) -> str:
    """A job's variable values as a short phrase."""
    return words.variables_words(variables)
