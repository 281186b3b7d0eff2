"""Times and check results in the words the review queue, submissions and inbox use."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


def _plural(number: int, unit: str) -> str:
    return f"{number}\xa0{unit}{'' if number == 1 else 's'}"


def span_words(seconds: float) -> str:
    """A length of time, rounded to its largest unit: "3 hours", "2 days"; "" under a
    minute. Rounded, not cut: 2 h 59 min is "3 hours" (Django's timesince says "2 hours")."""
    seconds = abs(seconds)
    if seconds < 45:
        return ""
    if seconds < 3600 - 30:
        return _plural(max(1, round(seconds / 60)), "minute")
    if seconds < 86400 - 1800:
        return _plural(round(seconds / 3600), "hour")
    return _plural(round(seconds / 86400), "day")


@register.filter
def due_words(due: datetime | None, now: datetime | None = None) -> str:
    """``due_at`` → "due in 3 hours", "overdue by 1 day" or "due now"."""
    if not isinstance(due, datetime):
        return ""
    seconds = (due - (now or timezone.now())).total_seconds()
    words = span_words(seconds)
    if not words:
        return "due now"
    return f"due in {words}" if seconds > 0 else f"overdue by {words}"


@register.filter
def is_overdue(due: datetime | None) -> bool:
    """True once ``due`` has passed."""
    return isinstance(due, datetime) and due <= timezone.now()


@register.filter
def ago_words(when: datetime | None, now: datetime | None = None) -> str:
    """A past time → "5 minutes ago", "2 days ago", or "just now" (never "0 minutes ago")."""
    if not isinstance(when, datetime):
        return ""
    words = span_words(((now or timezone.now()) - when).total_seconds())
    return f"{words} ago" if words else "just now"


def check_summary(total: int, failed: int, warned: int) -> str:
    """The checks of one version in words: "All checks passed", "1 failed, 2 need a look"."""
    if not total:
        return "No checks ran"
    parts = []
    if failed:
        parts.append(f"{failed} failed")
    if warned:
        parts.append(f"{warned} {'needs' if warned == 1 else 'need'} a look")
    return ", ".join(parts) if parts else "All checks passed"


@register.simple_tag
def checks_in_words(review: object) -> str:
    """``check_summary`` of a row annotated by ``ReviewQuerySet.with_queue_facts``."""
    return check_summary(getattr(review, "checks_total", 0) or 0,
                         getattr(review, "checks_failed", 0) or 0,
                         getattr(review, "checks_warned", 0) or 0)
