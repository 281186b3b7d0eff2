"""The API's page parameters. Its own module: DRF imports the default pagination class
while it builds its generic views, so this must not import them (assay.core.rest does)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination


class Pagination(pagination.LimitOffsetPagination):
    """``?limit=&offset=``: whole numbers only (a 400 names a bad one, never a silent
    default); ``limit`` is capped at ``max_limit`` and an offset past the end gives an
    empty page, so no value reaches the database as a number it cannot hold."""

    max_limit = 500

    def _param(self, request: Any, name: str, default: int, minimum: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) < minimum:
            raise exceptions.ValidationError({name: [
                f"Send a whole number of at least {minimum} (at most 19 digits)."]})
        return int(raw)

    def get_limit(self, request: Any) -> int:
        """1 to max_limit (larger values are capped)."""
        return min(self._param(request, self.limit_query_param, self.default_limit, 1),
                   self.max_limit)

    def get_offset(self, request: Any) -> int:
        """0 or more."""
        return self._param(request, self.offset_query_param, 0, 0)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """The two parameters, with their bounds."""
        params = super().get_schema_operation_parameters(view)
        for param in params:
            param["schema"]["minimum"] = 1 if param["name"] == self.limit_query_param else 0
            if param["name"] == self.limit_query_param:
                param["description"] += f" At most {self.max_limit} (larger values are capped)."
        return params
