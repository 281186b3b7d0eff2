"""A quota refusal in the words a marketer reads on the generation form.

The service's ``QuotaExceeded`` carries the quota's facts (scope, metric, limit, used,
reserved, left, requested, resets_at); its message is written for API clients and names
the quota the way an admin does ("Project 'launch' has used 100 of its 100 jobs ...").
The form says the same facts as a person would: "This project has used its 100
generations for December; it resets on 1 January."
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ("quota_message",)

#: What each metric counts, (one, many).
_UNITS = {"jobs": ("generation", "generations"), "images": ("image", "images"),
          "tokens": ("token of text", "tokens of text"),
          "accelerator_seconds": ("second of accelerator time",
                                  "seconds of accelerator time")}


def _amount(number: Any, metric: str) -> str:
    one, many = _UNITS.get(metric, (metric, metric))
    return f"{number:g} {one if number == 1 else many}" if isinstance(number, float) else (
        f"{number} {one if number == 1 else many}")


def _reset(quota: dict[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(quota.get("resets_at", "")).replace("Z", "+00:00"))
    except ValueError:
        return None


def quota_message(quota: dict[str, Any]) -> str:
    """One or two sentences: whose quota, what is used or left, and when it resets."""
    metric = str(quota.get("metric", "jobs"))
    limit = quota.get("limit", 0)
    resets = _reset(quota)
    month = f" for {(resets - dt.timedelta(days=1)):%B}" if resets else " this month"
    if quota.get("scope") == "user":
        who, has, its = "You", "have", "your"
        where = " in this project" if quota.get("project") else ""
    elif quota.get("scope") == "team":
        who, has, its, where = "Your team", "has", "its", ""
    else:
        who, has, its, where = "This project", "has", "its", ""
    left = quota.get("left") or 0
    if left and quota.get("requested"):
        text = (f"{who} {has} only {_amount(left, metric)} left of {its} "
                f"{_amount(limit, metric)}{month}{where}, and this needs "
                f"{_amount(quota['requested'], metric)}")
    else:
        text = f"{who} {has} used {its} {_amount(limit, metric)}{month}{where}"
        if quota.get("reserved"):
            text += ", counting work still queued or running"
    if resets:
        text += f"; it resets on {resets.day} {resets:%B}"
    return text + ". An admin can raise the limit."
