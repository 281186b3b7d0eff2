"""Django's error views for the whole site: JSON ``{detail, code, errors}`` under /api/,
the portal's HTML templates everywhere else.

DRF renders errors raised inside its views (assay.core.rest.exception_handler); these cover
what never reaches a DRF view: unknown routes, and errors Django itself handles (a body too
large to parse, an exception nobody caught). Set as handler400/403/404/500 in assay.urls.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from assay.core.rest import error_body

logger = logging.getLogger(__name__)
API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    """Whether the request is for the REST API (which answers JSON only)."""
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400 (413 for a body past DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(error_body("The request body is larger than this server accepts "
                                       "(DATA_UPLOAD_MAX_MEMORY_SIZE); send less.",
                                       "too_large"), status=413)
    return JsonResponse(error_body("The request could not be read; check its URL, headers "
                                   "and body.", "bad_request"), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403."""
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse(error_body("You may not do this.", "forbidden"), status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: an unknown route (the path is not repeated: it may be long or hostile)."""
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body("No API endpoint has this path; see /api/v1/schema/ for "
                                   "the endpoints.", "not_found"), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: the error is logged with its traceback by Django; the caller gets a sentence."""
    if not is_api(request):
        return defaults.server_error(request)
    return JsonResponse(error_body("The server failed to handle this request. It has been "
                                   "logged; try again later or report it.", "server_error"),
                        status=500)
