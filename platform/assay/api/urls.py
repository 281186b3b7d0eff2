"""REST v1 routes."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from assay.api import views

app_name = "api"

router = DefaultRouter()
router.register("projects", views.ProjectViewSet, basename="project")
router.register("generations", views.GenerationViewSet, basename="generation")
router.register("assets", views.AssetViewSet, basename="asset")

urlpatterns = [
    path("generators/", views.GeneratorsView.as_view(), name="generators"),
    path("plugins/", views.PluginsView.as_view(), name="plugins"),
    path("", include(router.urls)),
]
