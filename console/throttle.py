"""The sign-in throttle: failed sign-ins counted per email and per client address.

A fixed 15-minute window counted in the default cache, whose keys carry the
tenant's schema (``django_tenants.cache.make_key``): acme's failures never count
against globex. With Redis (``REDIS_URL``) every process shares the counts.
Once either count reaches its limit (``SSI_LOGIN_FAILURES_PER_EMAIL``,
``SSI_LOGIN_FAILURES_PER_ADDRESS``) sign-ins for that email or from that address
are refused with a 429 until the window ends, good password or not.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 15 * 60


def _keys(*, email: str, address: str) -> list[tuple[str, int]]:
    window = int(time.time() // WINDOW_SECONDS)
    email_id = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"console-login:email:{email_id}:{window}", int(settings.SSI_LOGIN_FAILURES_PER_EMAIL)),
        (f"console-login:addr:{address}:{window}", int(settings.SSI_LOGIN_FAILURES_PER_ADDRESS)),
    ]


def login_blocked(*, email: str, address: str) -> bool:
    """Whether this email or this address has used up its failures in this window."""
    return any(
        limit > 0 and int(cache.get(key, 0)) >= limit for key, limit in _keys(email=email, address=address)
    )


def login_failed(*, email: str, address: str) -> None:
    """Count one failed sign-in against the email and the address."""
    for key, _limit in _keys(email=email, address=address):
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
