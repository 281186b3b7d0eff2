"""Portal routes: sign in and out, projects, the generation form, jobs, asset bytes, reviews."""

from django.contrib.auth import views as auth_views
from django.urls import path

from assay.portal import review_views, token_views, views

app_name = "portal"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="portal/login.html",
                                                redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("projects/<slug:slug>/generate/", views.generate, name="generate"),
    path("projects/<slug:slug>/generate/fields/", views.generate_fields,
         name="generate_fields"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job"),
    path("jobs/<uuid:job_id>/status/", views.job_status, name="job_status"),
    path("jobs/<uuid:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("assets/<uuid:asset_id>/content/", views.asset_content, name="asset_content"),
    path("tokens/", token_views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", token_views.token_revoke, name="token_revoke"),
    path("reviews/", review_views.review_queue, name="reviews"),
    path("reviews/<int:review_id>/", review_views.review_detail, name="review"),
    path("reviews/<int:review_id>/decide/", review_views.review_decide, name="review_decide"),
    path("reviews/<int:review_id>/comments/", review_views.review_comment,
         name="review_comment"),
]
