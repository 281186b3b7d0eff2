"""Refuse NUL characters in the path or query string before any view, filter or query sees
them: PostgreSQL text cannot hold them (psycopg raises DataError, a 500)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from assay.api.handlers import is_api
from assay.core.rest import error_body

NUL_MESSAGE = ("Remove the NUL character (%00) from the URL: paths and query parameters "
               "cannot contain it.")


class RefuseNulMiddleware:
    """400 for a NUL anywhere in the URL: JSON under /api/, plain text elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer 400 at once, or pass the request on."""
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in unquote(query.replace("+", " ")):
            if is_api(request):
                return JsonResponse(error_body(NUL_MESSAGE, "invalid"), status=400)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain")
        return self.get_response(request)
