"""v1 routes of the platform host."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from api.v1.platform import TenantViewSet

router = SimpleRouter(trailing_slash=False)
router.register("platform/tenants", TenantViewSet, basename="platform-tenant")

urlpatterns = router.urls
