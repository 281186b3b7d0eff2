"""Portal routes: sign in and out, projects, the generation form, jobs, asset bytes, reviews."""

from django.contrib.auth import views as auth_views
from django.urls import path

from assay.portal import (
    asset_views,
    manage_views,
    queue_views,
    review_views,
    token_views,
    verify_views,
    views,
)

app_name = "portal"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="portal/login.html",
                                                redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("projects/<slug:slug>/manage/", manage_views.project_manage, name="project_manage"),
    path("projects/<slug:slug>/generate/", views.generate, name="generate"),
    path("projects/<slug:slug>/generate/fields/", views.generate_fields,
         name="generate_fields"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job"),
    path("jobs/<uuid:job_id>/status/", views.job_status, name="job_status"),
    path("jobs/<uuid:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("assets/<uuid:asset_id>/content/", views.asset_content, name="asset_content"),
    path("assets/", asset_views.asset_library, name="assets"),
    path("assets/<uuid:asset_id>/", asset_views.asset_detail, name="asset"),
    path("assets/<uuid:asset_id>/download/", asset_views.asset_download,
         name="asset_download"),
    path("assets/<uuid:asset_id>/credentials/", asset_views.asset_sidecar,
         name="asset_sidecar"),
    path("assets/<uuid:asset_id>/revise/", asset_views.asset_revise, name="asset_revise"),
    path("verify/", verify_views.verify, name="verify"),
    path("tokens/", token_views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", token_views.token_revoke, name="token_revoke"),
    path("reviews/", queue_views.review_queue, name="reviews"),
    path("reviews/mine/", queue_views.my_submissions, name="my_submissions"),
    path("inbox/", queue_views.inbox_page, name="inbox"),
    path("inbox/read/", queue_views.inbox_read, name="inbox_read"),
    path("reviews/<int:review_id>/", review_views.review_detail, name="review"),
    path("reviews/<int:review_id>/decide/", review_views.review_decide, name="review_decide"),
    path("reviews/<int:review_id>/comments/", review_views.review_comment,
         name="review_comment"),
]
