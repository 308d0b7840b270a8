"""Every answer's security headers, and the request context the audit log reads.

``SecurityHeadersMiddleware`` sits right after Django's ``SecurityMiddleware``
(which adds ``X-Content-Type-Options``, ``Referrer-Policy``,
``Cross-Origin-Opener-Policy`` and, on HTTPS in production, HSTS), before
everything that may answer early (WhiteNoise, tenant routing's JSON 404 and
503): so every answer, errors included, carries the same headers.

A console page may be framed only where its view says so: ``response.frame_ancestors`` (a
list of origins, set by ``/console/me`` from the tenant's ``embed_origins``) replaces the
console CSP's ``frame-ancestors 'none'``, and such an answer carries no ``X-Frame-Options``
(it cannot name a list of origins; browsers follow the CSP's ``frame-ancestors`` over it).

``RequestContextMiddleware`` gives each request an id (the caller's
``X-Request-ID`` when it is a sane token, else a fresh one) and echoes it in
the answer; the audit log records it with each change (``api.actors``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# JSON (and everything else that is not the Swagger UI page): nothing may load, nobody may frame it.
CSP_API = "default-src 'none'; frame-ancestors 'none'"
# The Swagger UI page (drf-spectacular's split view: no inline script; the assets are served
# from this host by drf-spectacular-sidecar). Swagger UI sets inline styles, and its CSS uses
# data: images; it fetches the schema from this host.
CSP_DOCS = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The console's pages: its one stylesheet from this host, forms posting to this host only.
CSP_CONSOLE = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FRAME_ANCESTORS_NONE = "frame-ancestors 'none'"
CONSOLE_PATH = "/console/"
DOCS_PATH = "/api/v1/docs/"
SCHEMA_PATH = "/api/v1/schema/"
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(request: object) -> str:
    """The id ``RequestContextMiddleware`` gave the request (a DRF request hands it on)."""
    return str(getattr(request, "request_id", ""))


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = given if REQUEST_ID_RE.match(given) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
        return response


def csp_console(frame_ancestors: Sequence[str] = ()) -> str:
    """The console's policy; ``frame_ancestors``: the origins that may frame the page (none
    when empty)."""
    if not frame_ancestors:
        return CSP_CONSOLE
    return CSP_CONSOLE.replace(FRAME_ANCESTORS_NONE, "frame-ancestors " + " ".join(frame_ancestors))


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        is_docs_page = request.path == DOCS_PATH and response.get("Content-Type", "").startswith("text/html")
        is_html = response.get("Content-Type", "").startswith("text/html")
        is_console = request.path.startswith(CONSOLE_PATH)
        framers: Sequence[str] = getattr(response, "frame_ancestors", ()) if is_console else ()
        if is_docs_page:
            response["Content-Security-Policy"] = CSP_DOCS
        elif is_html and is_console:
            response["Content-Security-Policy"] = csp_console(framers)
        else:
            response["Content-Security-Policy"] = CSP_API
        if is_console:
            # Not no-referrer (Django's, below, for the rest): under it a browser sends
            # `Origin: null` with a form's POST, and CSRF's origin check refuses every form.
            # A page that posts no CSRF-checked form may ask for less (``/console/me``).
            response.setdefault("Referrer-Policy", "same-origin")
        # nosniff and Referrer-Policy: Django's SecurityMiddleware, outside this one, adds them
        # (setdefault: the console's stays).
        if framers:
            response.headers.pop("X-Frame-Options", None)
        else:
            response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        if "HTTP_AUTHORIZATION" in request.META or not self._cacheable(request.path):
            # Answers to a token are that token's business: no shared or browser cache keeps them.
            response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _cacheable(path: str) -> bool:
        """Anonymous documents and static assets may be cached; nothing else."""
        return path in (DOCS_PATH, SCHEMA_PATH) or path.startswith(str(settings.STATIC_URL))
