"""REST rate limits: per API token or signed-in user, per client address for anonymous
callers, and a stricter one for expensive writes (generation submit, verify upload).

DRF's own throttles keep a list of timestamps per caller and read-modify-write it, so 50
parallel requests all read the same list and all pass. These count with the cache's atomic
``incr`` in two fixed windows weighted into a sliding one (the current window's count plus
the previous window's share of the time left), so a burst is counted exactly, in the
shared cache (Redis, ``ASSAY_CACHE_URL``) across every web process. A refused call gives
its count back, so a client that waits for ``Retry-After`` gets through.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, read at each request (so
tests can change them); ``None`` turns a limit off.
"""

from __future__ import annotations

import logging
import math
import re
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from assay.accounts.models import APIToken

log = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*([0-9]{1,9})\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"600/min"`` → (600, 60); None or empty → None (no limit); anything else ValueError."""
    if rate is None or not rate.strip():
        return None
    match = _RATE.match(rate)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"{rate!r} is not a rate; write N/second, N/min, N/hour or N/day "
                         "with N at least 1 (or leave it empty for no limit)")
    return int(match.group(1)), _PERIODS[match.group(2)[0]]


def client_ip(request: HttpRequest | Any) -> str:
    """The caller's address: REMOTE_ADDR, or, behind ``ASSAY_NUM_PROXIES`` trusted proxies,
    the address the outermost of them saw (X-Forwarded-For is otherwise ignored, since
    any client can send it). Also what the login lockout counts by."""
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = getattr(settings, "ASSAY_NUM_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-min(proxies, len(hops))] if hops else remote


def hit(key: str, limit: int, period: int, now: float) -> float | None:
    """Count one call for ``key``; None when it is allowed, else seconds until one would be.

    Sliding-window estimate over two fixed windows, with atomic cache increments.
    """
    window = int(now // period)
    elapsed = now - window * period
    current, previous = f"throttle:{key}:{window}", f"throttle:{key}:{window - 1}"
    cache.add(current, 0, timeout=2 * period)
    try:
        count = cache.incr(current)
    except ValueError:  # expired between add and incr
        cache.add(current, 0, timeout=2 * period)
        count = cache.incr(current)
    before = cache.get(previous) or 0
    left = (period - elapsed) / period
    if before * left + count <= limit:
        return None
    cache.decr(current)  # a refused call does not use up the allowance
    count -= 1
    if count + 1 <= limit:  # only the previous window's share is in the way: it fades
        wait = (period - elapsed) - period * (limit - count - 1) / before
    else:  # this window is full: wait for it to end and its share to fade enough
        wait = (period - elapsed) + period * max(0.0, 1 - (limit - 1) / max(count, 1))
    return max(1.0, math.ceil(wait))


class WindowThrottle(BaseThrottle):
    """A throttle over :func:`hit`; subclasses name the scope and who is counted."""

    scope = ""
    timer = staticmethod(time.time)

    def __init__(self) -> None:
        self._wait: float | None = None

    def ident(self, request: Any, view: Any) -> str | None:
        """Who this call is counted against, or None when this throttle does not apply."""
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        """Count the call; False (429 with Retry-After) past the rate.

        A cache that cannot be reached lets the call through (and logs): rate limits must
        not take the API down with them.
        """
        rate = parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))
        if rate is None:
            return True
        who = self.ident(request, view)
        if who is None:
            return True
        try:
            self._wait = hit(f"{self.scope}:{who}", *rate, self.timer())
        except Exception:
            log.warning("rate limit %s not checked: the cache is unavailable", self.scope,
                        exc_info=True)
            return True
        return self._wait is None

    def wait(self) -> float | None:
        """Seconds until a call would be allowed again (the Retry-After header)."""
        return self._wait


def _caller(request: Any) -> str | None:
    auth = getattr(request, "auth", None)
    if isinstance(auth, APIToken):
        return f"token:{auth.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


class TokenOrUserThrottle(WindowThrottle):
    """Each API token has its own allowance; a signed-in session counts against its user."""

    scope = "user"

    def ident(self, request: Any, view: Any) -> str | None:
        """The token or the user; None for anonymous calls."""
        return _caller(request)


class AnonymousThrottle(WindowThrottle):
    """Anonymous calls, counted per client address."""

    scope = "anon"

    def ident(self, request: Any, view: Any) -> str | None:
        """The client address; None for authenticated calls."""
        if _caller(request) is not None:
            return None
        return f"ip:{client_ip(request)}"


class ExpensiveWriteThrottle(WindowThrottle):
    """Writes that cost real work (a generation, a verify upload): a stricter allowance.

    Applies to unsafe methods on the routes named in ``ASSAY_THROTTLE_EXPENSIVE_ROUTES``
    (URL names such as ``api:generation-list``, listed in settings so the limit is set in
    one place) or on views with ``throttle_scope = "expensive"``.
    """

    scope = "expensive"

    def ident(self, request: Any, view: Any) -> str | None:
        """The token, user or client address and the route, on expensive writes only (each
        route has its own allowance)."""
        if request.method in SAFE_METHODS:
            return None
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match is not None else ""
        if route not in getattr(settings, "ASSAY_THROTTLE_EXPENSIVE_ROUTES", ()) and getattr(
                view, "throttle_scope", None) != "expensive":
            return None
        return f"{_caller(request) or 'ip:' + client_ip(request)}:{route or type(view).__name__}"


def charge_failed_authentication(request: Any) -> None:
    """Count a refused credential against the caller's anonymous allowance.

    DRF authenticates before it throttles, so without this a client could try tokens as
    fast as it likes: each attempt would be a 401 that no throttle ever sees.
    """
    throttle = AnonymousThrottle()
    rate = parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(throttle.scope))
    if rate is None:
        return
    try:
        wait = hit(f"{throttle.scope}:ip:{client_ip(request)}", *rate, throttle.timer())
    except Exception:
        log.warning("rate limit anon not checked: the cache is unavailable", exc_info=True)
        return
    if wait is not None:
        raise exceptions.Throttled(wait)
