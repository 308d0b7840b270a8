"""URLs of the platform host (the bare base domain, public schema)."""

from __future__ import annotations

from django.urls import include, path

from api.v1 import urls_public
from config.urls_common import common_patterns

urlpatterns = [
    path("api/v1/", include(urls_public)),
    *common_patterns,
]

handler400 = "api.errors.handler400"
handler403 = "api.errors.handler403"
handler404 = "api.errors.handler404"
handler500 = "api.errors.handler500"
