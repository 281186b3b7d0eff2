"""Filters for audio and video: lengths and times as people read them ("0:12", "1:02:03")."""

from __future__ import annotations

import math
from typing import Any

from django import template

from assay.portal.media_views import poster_name

register = template.Library()


def clock(seconds: Any) -> str:
    """12 → "0:12", 75.6 → "1:15", 3723 → "1:02:03"; "" for anything that is not a time."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return ""
    if not math.isfinite(seconds) or seconds < 0:
        return ""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def clock_time(seconds: Any) -> str:
    """A time or a length in seconds as a clock reading (see ``clock``)."""
    return clock(seconds)


@register.filter
def asset_duration(asset: Any) -> str:
    """The asset's length from ``metadata["duration_seconds"]`` as "0:12", or ""."""
    meta = getattr(asset, "metadata", None)
    return clock(meta.get("duration_seconds")) if isinstance(meta, dict) else ""


@register.filter
def has_poster(asset: Any) -> bool:
    """Whether the asset carries a poster still (a video's, served by ``asset_poster``)."""
    return bool(poster_name(asset))
