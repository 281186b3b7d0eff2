"""Root URLs: portal, REST v1, health probes, admin.

Media files are never served directly: assets are downloaded through views that check
the user's project role.
"""

from django.contrib import admin
from django.urls import include, path

from assay.api.health import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/", include("assay.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("assay.portal.urls")),
]

# JSON {detail, code, errors} under /api/, the portal's templates elsewhere.
handler400 = "assay.api.handlers.bad_request"
handler403 = "assay.api.handlers.permission_denied"
handler404 = "assay.api.handlers.page_not_found"
handler500 = "assay.api.handlers.server_error"
