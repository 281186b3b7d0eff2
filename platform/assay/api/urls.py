"""REST v1 routes."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from assay.accounts import api as accounts_api
from assay.api import views
from assay.api.schema import RedocView, SwaggerView
from governance.audit import api as audit_api
from governance.provenance import api as provenance_api
from governance.review import api as review_api
from governance.review import inbox_api
from governance.usage import api as usage_api

app_name = "api"

# No ``.json`` format suffixes: the API speaks JSON only, and a suffix on an action
# (``/generations/<id>/cancel.json``) reached views that take no ``format`` argument (500).
# The schema, not a browsable root, lists the endpoints.
router = SimpleRouter()
router.register("projects", views.ProjectViewSet, basename="project")
router.register("generations", views.GenerationViewSet, basename="generation")
router.register("assets", views.AssetViewSet, basename="asset")
router.register("reviews", review_api.ReviewViewSet, basename="review")
router.register("tokens", accounts_api.TokenViewSet, basename="token")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("schema/swagger/", SwaggerView.as_view(url_name="api:schema"), name="schema-swagger"),
    path("schema/redoc/", RedocView.as_view(url_name="api:schema"), name="schema-redoc"),
    path("generators/", views.GeneratorsView.as_view(), name="generators"),
    path("plugins/", views.PluginsView.as_view(), name="plugins"),
    path("assets/<str:asset_id>/checks/", review_api.AssetChecksView.as_view(),
         name="asset-checks"),
    path("assets/<str:asset_id>/submit-review/", review_api.AssetSubmitView.as_view(),
         name="asset-submit-review"),
    path("assets/<str:asset_id>/revise/", review_api.AssetReviseView.as_view(),
         name="asset-revise"),
    path("projects/<slug:slug>/brand-kit/", review_api.BrandKitView.as_view(),
         name="brand-kit"),
    path("projects/<slug:slug>/review-policy/", review_api.ReviewPolicyView.as_view(),
         name="review-policy"),
    path("projects/<slug:slug>/quotas/", usage_api.QuotasView.as_view(), name="quotas"),
    path("usage/", usage_api.UsageView.as_view(), name="usage"),
    path("inbox/", inbox_api.InboxView.as_view(), name="inbox-list"),
    path("inbox/read/", inbox_api.InboxReadView.as_view(), name="inbox-read"),
    path("assets/<str:asset_id>/sidecar/", provenance_api.AssetSidecarView.as_view(),
         name="asset-sidecar"),
    path("provenance/verify/", provenance_api.VerifyView.as_view(), name="provenance-verify"),
    path("audit/events/", audit_api.EventListView.as_view(), name="audit-events"),
    path("audit/events/export/", audit_api.EventExportView.as_view(), name="audit-export"),
    path("audit/verify/", audit_api.VerifyView.as_view(), name="audit-verify"),
    path("audit/actions/", audit_api.ActionListView.as_view(), name="audit-actions"),
    path("", include(router.urls)),
]
