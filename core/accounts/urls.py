from django.contrib.auth import views as auth_views
from django.urls import path

from core.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("keepalive/", views.keepalive, name="keepalive"),
    path("code/", views.verify, name="verify"),
    path("sign-in-app-needed/", views.mfa_required, name="mfa_required"),
    path("enrol/<str:token>/", views.enrol, name="enrol"),
    path("password/", views.password_change, name="password_change"),
    path("dashboard/<str:role>/", views.dashboard, name="dashboard"),
    # Administration of the admin's own organisation.
    path("users/", views.user_list, name="user_list"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/", views.role_request, name="role_request"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/enrolment-link/", views.enrolment_link_issue, name="enrolment_link_issue"),
    path("users/<int:pk>/sign-in-app-reset/", views.mfa_reset_request, name="mfa_reset_request"),
    path("roles/<int:pk>/approve/", views.role_approve, name="role_approve"),
    path("roles/<int:pk>/refuse/", views.role_refuse, name="role_refuse"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("sign-in-app-resets/<int:pk>/approve/", views.mfa_reset_approve, name="mfa_reset_approve"),
    path("sign-in-app-resets/<int:pk>/refuse/", views.mfa_reset_refuse, name="mfa_reset_refuse"),
    path("pending/", views.pending, name="pending"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/members/<int:user_pk>/remove/", views.team_member_remove, name="team_member_remove"),
    path("arrangements/", views.arrangement_list, name="arrangement_list"),
]
