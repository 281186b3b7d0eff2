"""Downloads while the media storage is away: a page in words (503), never a 500."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.provenance.errors import MediaUnavailable


def speaks_media_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a view that streams a stored file: an unreachable storage answers 503."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except MediaUnavailable as exc:
            response = render(request, "portal/unavailable.html", {"message": exc.message},
                              status=503)
            response["Retry-After"] = "30"
            return response

    return wrapped
