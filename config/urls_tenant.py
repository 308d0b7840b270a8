"""URLs of a tenant host (``<slug>.<base domain>``, or the platform host with ``X-Tenant``)."""

from __future__ import annotations

from django.urls import include, path

from api.v1 import urls_tenant
from api.v1.exports import export_download
from config.urls_common import common_patterns
from console import urls as console_urls

urlpatterns = [
    path("api/v1/", include(urls_tenant)),
    path("console/", include(console_urls)),
    # An export's archive through its signed link (no key: the link is the credential).
    path("exports/<str:token>/<str:file>", export_download, name="export-download"),
    *common_patterns,
]

handler400 = "api.errors.handler400"
handler403 = "api.errors.handler403"
handler404 = "console.views.handler404"
handler500 = "api.errors.handler500"
