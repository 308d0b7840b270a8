"""The console's URLs under ``/console/`` on a tenant host."""

from __future__ import annotations

from django.urls import path

from console import views

urlpatterns = [
    path("", views.home, name="console-home"),
    path("login", views.login, name="console-login"),
    path("logout", views.logout, name="console-logout"),
    path("invite/<str:token>", views.invitation, name="console-invitation"),
    path("password-reset", views.password_reset, name="console-password-reset"),
    path("password-reset/<str:token>", views.password_reset_link, name="console-password-reset-link"),
]
