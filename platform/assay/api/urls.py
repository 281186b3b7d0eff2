"""REST v1 routes."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from assay.api import views
from governance.review import api as review_api

app_name = "api"

router = DefaultRouter()
router.register("projects", views.ProjectViewSet, basename="project")
router.register("generations", views.GenerationViewSet, basename="generation")
router.register("assets", views.AssetViewSet, basename="asset")
router.register("reviews", review_api.ReviewViewSet, basename="review")

urlpatterns = [
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
    path("", include(router.urls)),
]
