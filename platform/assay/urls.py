"""Root URLs: portal, REST v1, health probes, admin.

Media files are never served directly: assets are downloaded through views that check
the user's project role.
"""

from django.contrib import admin
from django.urls import include, path

from assay.accounts.oidc_views import ProviderCallbackView, ProviderLoginView, ProviderLogoutView
from assay.api.health import healthz, readyz
from assay.api.metrics import metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),  # Prometheus; a bearer token when set
    path("api/v1/", include("assay.api.urls")),
    path("admin/", admin.site.urls),
    # single sign-on (OpenID Connect); 404 while ASSAY_OIDC_CLIENT_ID is empty
    path("oidc/authenticate/", ProviderLoginView.as_view(), name="oidc_authenticate"),
    path("oidc/callback/", ProviderCallbackView.as_view(), name="oidc_callback"),
    path("oidc/logout/", ProviderLogoutView.as_view(), name="oidc_logout"),
    path("", include("assay.portal.urls")),
]

# JSON {detail, code, errors} under /api/, the portal's templates elsewhere.
handler400 = "assay.api.handlers.bad_request"
handler403 = "assay.api.handlers.permission_denied"
handler404 = "assay.api.handlers.page_not_found"
handler500 = "assay.api.handlers.server_error"
