"""REST v1 routes."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from assay.accounts import api as accounts_api
from assay.api import admin as admin_api
from assay.api import members, project_models, projects, views
from assay.api import prompts as prompts_api
from assay.api.schema import RedocView, SwaggerView
from governance.audit import api as audit_api
from governance.provenance import api as provenance_api
from governance.publishing import api as publishing_api
from governance.review import api as review_api
from governance.review import inbox_api, promotion_api, style_api
from governance.usage import api as usage_api

app_name = "api"

# No ``.json`` format suffixes: the API speaks JSON only, and a suffix on an action
# (``/generations/<id>/cancel.json``) reached views that take no ``format`` argument (500).
# The schema, not a browsable root, lists the endpoints.
router = SimpleRouter()
router.register("projects", projects.ProjectViewSet, basename="project")
router.register("teams", projects.TeamViewSet, basename="team")
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
    path("health/", admin_api.HealthView.as_view(), name="health"),
    path("provenance/credentials/", admin_api.CredentialsView.as_view(),
         name="provenance-credentials"),
    path("assets/<str:asset_id>/checks/", review_api.AssetChecksView.as_view(),
         name="asset-checks"),
    path("assets/<str:asset_id>/submit-review/", review_api.AssetSubmitView.as_view(),
         name="asset-submit-review"),
    path("assets/<str:asset_id>/revise/", review_api.AssetReviseView.as_view(),
         name="asset-revise"),
    path("projects/<slug:slug>/brand-kit/", review_api.BrandKitView.as_view(),
         name="brand-kit"),
    path("projects/<slug:slug>/brand-styles/", style_api.BrandStylesView.as_view(),
         name="brand-styles"),
    path("projects/<slug:slug>/brand-styles/<int:style_id>/", style_api.BrandStyleView.as_view(),
         name="brand-style"),
    path("projects/<slug:slug>/review-policy/", review_api.ReviewPolicyView.as_view(),
         name="review-policy"),
    path("projects/<slug:slug>/quotas/", usage_api.QuotasView.as_view(), name="quotas"),
    path("projects/<slug:slug>/facts/export/", review_api.FactsExportView.as_view(),
         name="facts-export"),
    path("projects/<slug:slug>/facts/import/", review_api.FactsImportView.as_view(),
         name="facts-import"),
    path("projects/<slug:slug>/models/", project_models.ProjectModelsView.as_view(),
         name="project-models"),
    path("usage/", usage_api.UsageView.as_view(), name="usage"),
    path("projects/<slug:slug>/webhooks/", publishing_api.WebhooksView.as_view(),
         name="webhook-list"),
    path("projects/<slug:slug>/webhooks/<int:webhook_id>/", publishing_api.WebhookView.as_view(),
         name="webhook-detail"),
    path("projects/<slug:slug>/webhooks/<int:webhook_id>/ping/",
         publishing_api.WebhookPingView.as_view(), name="webhook-ping"),
    path("projects/<slug:slug>/webhooks/<int:webhook_id>/deliveries/",
         publishing_api.WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("deliveries/<uuid:delivery_id>/", publishing_api.DeliveryView.as_view(),
         name="delivery-detail"),
    path("deliveries/<uuid:delivery_id>/redeliver/", publishing_api.RedeliverView.as_view(),
         name="delivery-redeliver"),
    path("projects/<slug:slug>/members/", members.MembersView.as_view(),
         name="project-members"),
    path("projects/<slug:slug>/members/<str:member>/", members.MemberView.as_view(),
         name="project-member"),
    path("projects/<slug:slug>/invitations/", members.InvitationsView.as_view(),
         name="project-invitations"),
    path("invitations/accept/", members.AcceptInvitationView.as_view(),
         name="invitation-accept"),
    path("inbox/", inbox_api.InboxView.as_view(), name="inbox-list"),
    path("inbox/read/", inbox_api.InboxReadView.as_view(), name="inbox-read"),
    path("assets/<str:asset_id>/sidecar/", provenance_api.AssetSidecarView.as_view(),
         name="asset-sidecar"),
    path("provenance/verify/", provenance_api.VerifyView.as_view(), name="provenance-verify"),
    path("audit/events/", audit_api.EventListView.as_view(), name="audit-events"),
    path("audit/events/export/", audit_api.EventExportView.as_view(), name="audit-export"),
    path("audit/verify/", audit_api.VerifyView.as_view(), name="audit-verify"),
    path("audit/actions/", audit_api.ActionListView.as_view(), name="audit-actions"),
    # the prompt library (before the router: its GET serves project-templates' list)
    path("projects/<slug:slug>/templates/", prompts_api.ProjectTemplatesView.as_view(),
         name="template-create"),
    path("templates/<int:template_id>/versions/", prompts_api.VersionsView.as_view(),
         name="template-versions"),
    path("templates/<int:template_id>/versions/<int:version_id>/",
         prompts_api.VersionDetailView.as_view(), name="template-version"),
    path("templates/<int:template_id>/diff/", prompts_api.TemplateDiffView.as_view(),
         name="template-diff"),
    path("templates/<int:template_id>/labels/<slug:name>/", prompts_api.LabelView.as_view(),
         name="template-label"),
    path("templates/<int:template_id>/render/", prompts_api.RenderView.as_view(),
         name="template-render"),
    path("templates/<int:template_id>/promotions/",
         promotion_api.TemplatePromotionsView.as_view(), name="template-promotions"),
    path("templates/<int:template_id>/promotions/<int:promotion_id>/",
         promotion_api.PromotionDetailView.as_view(), name="template-promotion"),
    path("templates/<int:template_id>/promotions/<int:promotion_id>/approve/",
         promotion_api.PromotionApproveView.as_view(), name="template-promotion-approve"),
    path("templates/<int:template_id>/promotions/<int:promotion_id>/reject/",
         promotion_api.PromotionRejectView.as_view(), name="template-promotion-reject"),
    path("templates/<int:template_id>/golden-set/", promotion_api.GoldenSetView.as_view(),
         name="template-golden-set"),
    path("projects/<slug:slug>/protected-labels/",
         promotion_api.ProtectedLabelsView.as_view(), name="protected-labels"),
    path("projects/<slug:slug>/protected-labels/<int:protection_id>/",
         promotion_api.ProtectedLabelDetailView.as_view(), name="protected-label"),
    path("", include(router.urls)),
]
