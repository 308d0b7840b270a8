"""Every API route at once, for the OpenAPI document only.

The platform and tenant hosts serve different URL confs; the schema is one
document that describes both (platform operations are tagged ``platform``).
"""

from __future__ import annotations

from django.urls import include, path

from api.v1 import urls_public, urls_tenant
from config.urls_common import common_patterns

urlpatterns = [
    path("api/v1/", include(urls_public)),
    path("api/v1/", include(urls_tenant)),
    *common_patterns,
]
