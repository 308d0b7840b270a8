"""Per-key rate limit: a fixed one-minute window counted in the cache.

DRF's ``SimpleRateThrottle`` keeps a list of every request time per key in
the cache, which is costly at hundreds of requests a second; a counter per
(key, minute) costs one ``incr``. Cache keys carry the tenant's schema
(``django_tenants.cache.make_key``), so key ids that repeat across tenants
never share a counter. With Redis (``REDIS_URL``) the count is shared by
every process; with the in-process cache each process counts on its own.

The limit is ``SSI_RATE_LIMIT_PER_MINUTE`` unless the platform set one for
the tenant (``rate_limit_per_minute``, ``PATCH /api/v1/platform/tenants/{slug}``);
it is read from the tenant row routing already loaded, so it costs no query.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from tenants.tenant_settings import rate_limit_per_minute

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

WINDOW_SECONDS = 60


class KeyRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request: Request, view: APIView) -> bool:
        limit = rate_limit_per_minute(getattr(request._request, "tenant", None))
        principal = request.user
        if limit <= 0 or not getattr(principal, "is_authenticated", False):
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"ratelimit:{principal.pk}:{window}"
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: count this one as the first
            cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
        if count > limit:
            self._wait = (window + 1) * WINDOW_SECONDS - now
            return False
        return True

    def wait(self) -> float:
        return max(1.0, self._wait)
