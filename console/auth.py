"""Who is signed in to the console: the session cookie, looked up in the tenant's schema."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from access.models import Member
from access.sessions import SESSION_TTL, session_member, session_start

COOKIE_PATH = "/console/"


def signed_in_member(request: HttpRequest) -> Member | None:
    return session_member(token=request.COOKIES.get(settings.SSI_CONSOLE_SESSION_COOKIE, ""))


def sign_in(response: HttpResponse, member: Member) -> HttpResponse:
    """Start a session for ``member`` and set its cookie on ``response``: host-only (no
    domain), HttpOnly, SameSite=Lax, Secure where configured."""
    response.set_cookie(
        settings.SSI_CONSOLE_SESSION_COOKIE,
        session_start(member=member),
        max_age=int(SESSION_TTL.total_seconds()),
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def forget_cookie(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(settings.SSI_CONSOLE_SESSION_COOKIE, path=COOKIE_PATH, samesite="Lax")
    return response
