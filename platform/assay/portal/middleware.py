"""htmx requests after the session ended get a small "sign in again" answer, not a page.

A job card polls its status every second. Once its user signs out in another tab (or the
session expires), ``login_required`` answers each poll with a redirect to the sign-in
page, the browser's XHR follows it, and htmx swapped the whole sign-in page into the card.
Here such a redirect, for a request that htmx made (``HX-Request: true``), becomes a 401
with a short fragment ("Your session ended. Sign in again") that carries a sign-in link
back to the page the user is on (``HX-Current-URL``), and ``HX-Retarget``/``HX-Reswap``
headers that put it in the banner slot ``session.js`` keeps, which also stops the polling.
Without that script htmx swaps nothing on a 401, so a card is never filled with a page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

#: The header session.js looks for, and the element it keeps for the banner.
ENDED_HEADER = "X-Assay-Session"
BANNER_SELECTOR = "#session-ended"


class HtmxSessionEndedMiddleware:
    """Turn a redirect to the sign-in page into a 401 fragment for htmx requests."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code not in (301,
                                                                                       302):
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login or request.path == login:
            return response
        return session_ended(request, login)


def _back_to(request: HttpRequest) -> str:
    """The page the user is on (not the polled fragment's URL), when it is ours."""
    current = request.headers.get("HX-Current-URL", "")
    if current and url_has_allowed_host_and_scheme(current, {request.get_host()},
                                                   require_https=request.is_secure()):
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def session_ended(request: HttpRequest, login: str) -> HttpResponse:
    """The 401 "Your session ended" fragment with its htmx headers."""
    sign_in = f"{login}?{urlencode({'next': _back_to(request)})}"
    response = HttpResponse(
        render_to_string("portal/_session_ended.html", {"sign_in_url": sign_in}),
        status=401)
    response[ENDED_HEADER] = "ended"
    response["HX-Retarget"] = BANNER_SELECTOR
    response["HX-Reswap"] = "innerHTML"
    response["Cache-Control"] = "no-store"
    return response
