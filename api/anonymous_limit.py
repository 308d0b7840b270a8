"""A per-address limit for requests without a valid key: anonymous ones, and every answer 401 or 403.

The per-key limit (``api.throttling``) cannot count what has no key, so without this an
address could ask for the OpenAPI document, or try tokens, as fast as the workers answer.
Each address may make ``SSI_ANON_RATE_LIMIT_PER_MINUTE`` such requests a clock minute; past
that every request from it, keyed or not, is a ``429 throttled`` with ``Retry-After`` until
the minute ends. The count lives in the ``limits`` cache (Redis with ``REDIS_URL``: shared by
every process; else each process counts on its own).

A keyed request costs no cache round trip: the address is looked up in this process's
memory of addresses over their limit, which fills when a count goes over. Only anonymous
requests read the shared count first. Health probes are not counted. A console page asked
with a session cookie counts as keyed: signed-in members (an office behind one address) are
not limited as strangers are, and a cookie that names no session is counted like a bad key.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

from api.errors import error_response

WINDOW_SECONDS = 60
NOT_COUNTED = frozenset({"/healthz", "/readyz"})
CONSOLE_PATH = "/console/"
THROTTLED_PAGE = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Too many requests · SSI Cloud</title>'
    "<h1>Too many requests</h1><p>Too many requests came from this address without signing in. "
    "Wait {seconds} seconds, then reload the page.</p></html>"
)
clock = time.time  # the wall clock the minutes are counted on (tests hold it still)
# Addresses over their limit, as this process saw them: address -> the end of their window.
_blocked: dict[str, float] = {}


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``SSI_NUM_PROXIES`` proxies the address
    the outermost of them saw (counted from the right of ``X-Forwarded-For``, which a client
    can prepend to but not append to)."""
    proxies = int(settings.SSI_NUM_PROXIES)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies][:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


class AnonymousRateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(settings.SSI_ANON_RATE_LIMIT_PER_MINUTE)
        if limit <= 0 or request.path in NOT_COUNTED:
            return self.get_response(request)
        now = clock()
        window = int(now // WINDOW_SECONDS)
        address = client_address(request)
        keyed = "HTTP_AUTHORIZATION" in request.META or _console_session(request)
        if _blocked.get(address, 0.0) > now or (not keyed and _count(address, window) >= limit):
            return _throttled((window + 1) * WINDOW_SECONDS - now, page=request.path.startswith(CONSOLE_PATH))
        response = self.get_response(request)
        counted = (
            not keyed or response.status_code in (401, 403) or getattr(request, "credential_refused", False)
        )
        if counted and _count_one(address, window) >= limit:
            _forget_expired(now)
            _blocked[address] = (window + 1) * WINDOW_SECONDS
        return response


def _console_session(request: HttpRequest) -> bool:
    """A console page asked with a session cookie (a member's, or a rep's on their own page): a
    credential, as a key is. A cookie the page finds no session for is counted after all: a member
    page marks the request ``credential_refused``; a rep's page answers 403."""
    if not request.path.startswith(CONSOLE_PATH):
        return False
    return bool(
        request.COOKIES.get(settings.SSI_CONSOLE_SESSION_COOKIE)
        or request.COOKIES.get(settings.SSI_CONSOLE_REP_COOKIE)
    )


def _key(address: str, window: int) -> str:
    return f"anon-limit:{address}:{window}"


def _count(address: str, window: int) -> int:
    return int(caches["limits"].get(_key(address, window), 0))


def _count_one(address: str, window: int) -> int:
    cache, key = caches["limits"], _key(address, window)
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        return int(cache.incr(key))
    except ValueError:  # evicted between add and incr: this one is the first
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        return 1


def _forget_expired(now: float) -> None:
    for address in [a for a, until in _blocked.items() if until <= now]:
        del _blocked[address]


def _throttled(wait: float, *, page: bool = False) -> HttpResponse:
    """429 with ``Retry-After``: the API's error shape, or for a console address a short page."""
    seconds = max(1, int(wait + 0.999))
    if page:
        response = HttpResponse(
            THROTTLED_PAGE.format(seconds=seconds), status=429, content_type="text/html; charset=utf-8"
        )
    else:
        response = error_response(
            429, "throttled", "Too many requests without a valid key from this address; retry later.", None
        )
    response["Retry-After"] = str(seconds)
    return response
