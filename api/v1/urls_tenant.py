"""v1 routes of a tenant host."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from api.v1.keys import ApiKeyViewSet
from api.v1.reps import RepViewSet
from api.v1.teams import TeamViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("teams", TeamViewSet, basename="team")
router.register("reps", RepViewSet, basename="rep")

urlpatterns = router.urls
