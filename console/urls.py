"""The console's URLs under ``/console/`` on a tenant host: the sign-in pages
(``console.views``) and the signed-in pages, each module of ``console.pages`` with its own
``urls``."""

from __future__ import annotations

from django.urls import path

from console import views
from console.pages import admin, audit, badges, contests, goals, leaderboards, me, overview, reps, weights

urlpatterns = [
    path("login", views.login, name="console-login"),
    path("logout", views.logout, name="console-logout"),
    path("invite/<str:token>", views.invitation, name="console-invitation"),
    path("password-reset", views.password_reset, name="console-password-reset"),
    path("password-reset/<str:token>", views.password_reset_link, name="console-password-reset-link"),
    *overview.urls,
    *reps.urls,
    *leaderboards.urls,
    *weights.urls,
    *badges.urls,
    *goals.urls,
    *contests.urls,
    *admin.urls,
    *audit.urls,
    *me.urls,
]
