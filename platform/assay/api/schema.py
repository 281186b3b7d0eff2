"""The OpenAPI schema's views and extensions: Swagger UI and Redoc from the sidecar
package's static files, with no inline script (the site's CSP allows none) and no CDN."""

from __future__ import annotations

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <token>`` (assay.accounts' hashed, expiring tokens)."""

    target_class = "assay.accounts.authentication.APITokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        """An HTTP bearer scheme."""
        return {"type": "http", "scheme": "bearer",
                "description": "An API token from `manage.py issue_token` or the portal."}


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI; its start-up script is served from this URL (``?script``), not inline."""

    template_name = "api/swagger_ui.html"


@method_decorator(csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]}),
                  name="dispatch")
class RedocView(SpectacularRedocView):
    """Redoc. It styles itself with injected <style> elements and searches in a blob
    worker, so this page alone allows inline styles (never inline scripts)."""

    template_name = "api/redoc.html"
