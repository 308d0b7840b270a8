"""A rep's own page: ``/console/me``, reached through a rep token, embeddable by the company's app.

- ``GET /console/me?token=ssir_…`` checks the token as the API does (``rep_token_check``),
  starts a rep session (``access.rep_sessions``: an hour at most, ended with the token or the
  rep) in its own cookie, and answers 303 to ``/console/me``: the token leaves the address bar
  and the browser's history at once.
- ``GET /console/me`` with that cookie shows the rep's page (``rep_detail_context``), without
  the members' navigation; without one, or after a bad, revoked or expired token, a 403 page
  "This link no longer works".
- ``POST /console/me`` is the page's **Sign out**: it ends the rep session.

A rep session opens this page only: its cookie's path is ``/console/me``, and every member
page asks for a member's session (``console_page``). The tenant's ``embed_origins`` setting
names the sites whose pages may frame this one (``frame_ancestors``, read by
``api.middleware``); with any set, the cookie is ``SameSite=None; Secure; Partitioned``, so it
is sent inside a cross-site frame, kept apart for each embedding site (CHIPS).

Sign out is not checked by Django's CSRF middleware: inside a cross-site frame the CSRF
cookie (``SameSite=Lax``) is not sent. It carries instead a value only the page knows, derived
from the session's token (``signout_code``), so another site cannot post it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from access.rep_sessions import REP_SESSION_TTL, rep_session_end, rep_session_get, rep_session_start
from access.rep_tokens import rep_token_check
from console.pages.rep_detail import rep_detail_context
from tenants.tenant_settings import embed_origins

ME_PATH = "/console/me"
REP_COOKIE = settings.SSI_CONSOLE_REP_COOKIE
SIGNOUT_SALT = "console.pages.me.signout"
NO_LONGER_WORKS = (
    "It has expired or was already replaced, or you signed out. Open your page again from your "
    "company's app: it makes a fresh link each time."
)
SIGNED_OUT = "To see your page again, open it from your company's app."
FORM_EXPIRED = "Reload the page and try again."


def signout_code(session_token: str) -> str:
    """The Sign out form's value: bound to the session, unknown to any other site."""
    return salted_hmac(SIGNOUT_SALT, session_token).hexdigest()


def _set_cookie(response: HttpResponse, token: str, *, embedded: bool) -> None:
    """The rep session's cookie: host-only, HttpOnly, on ``/console/me`` only. For a page that
    may be framed by another site: ``SameSite=None; Secure; Partitioned`` (a browser sends no
    other cookie to a cross-site frame); else ``SameSite=Lax``, Secure where configured."""
    response.set_cookie(
        REP_COOKIE,
        token,
        max_age=int(REP_SESSION_TTL.total_seconds()),
        path=ME_PATH,
        secure=embedded or settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="None" if embedded else "Lax",
    )
    if embedded:
        # Python's cookie writer (before 3.14) has no Partitioned attribute, and writes
        # SameSite's value as it is: the flag rides after it.
        response.cookies[REP_COOKIE]["samesite"] = "None; Partitioned"


def _forget_cookie(response: HttpResponse, *, embedded: bool) -> None:
    _set_cookie(response, "", embedded=embedded)
    response.cookies[REP_COOKIE]["max-age"] = 0
    response.cookies[REP_COOKIE]["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"


def _notice(request: HttpRequest, heading: str, text: str, status: int) -> HttpResponse:
    template = "console/me_notice.html"
    return render(request, template, {"heading": heading, "text": text}, status=status)


def _no_longer_works(request: HttpRequest) -> HttpResponse:
    return _notice(request, "This link no longer works", NO_LONGER_WORKS, 403)


def _exchange(request: HttpRequest, *, embedded: bool) -> HttpResponse:
    """A rep token for a session: 303 to the page without the token, or the 403 page."""
    check = rep_token_check(token=request.GET.get("token", ""))
    if not check.valid or check.rep_token is None:
        return _no_longer_works(request)
    rep_session_end(token=request.COOKIES.get(REP_COOKIE, ""))  # one session per browser
    response = HttpResponseRedirect(ME_PATH, status=303)
    _set_cookie(response, rep_session_start(rep_token=check.rep_token), embedded=embedded)
    return response


def _page(request: HttpRequest) -> HttpResponse:
    token = request.COOKIES.get(REP_COOKIE, "")
    session = rep_session_get(token=token)
    if session is None:
        return _no_longer_works(request)
    context = {**rep_detail_context(session.rep), "signout": signout_code(token)}
    return render(request, "console/me.html", context)


def _sign_out(request: HttpRequest, *, embedded: bool) -> HttpResponse:
    token = request.COOKIES.get(REP_COOKIE, "")
    if rep_session_get(token=token) is not None:
        if not constant_time_compare(request.POST.get("signout", ""), signout_code(token)):
            return _notice(request, "This form has expired", FORM_EXPIRED, 403)
        rep_session_end(token=token)
    response = _notice(request, "You are signed out", SIGNED_OUT, 200)
    _forget_cookie(response, embedded=embedded)
    return response


@csrf_exempt  # Sign out carries its own check (signout_code): see the module's docstring
@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    origins = embed_origins(request.tenant)  # type: ignore[attr-defined]
    embedded = bool(origins)
    if request.method == "POST":
        response = _sign_out(request, embedded=embedded)
    elif "token" in request.GET:
        response = _exchange(request, embedded=embedded)
    else:
        response = _page(request)
    response.frame_ancestors = origins  # type: ignore[attr-defined]
    # No address of this page leaves it, not even to this host (its first one held the token).
    response["Referrer-Policy"] = "no-referrer"
    return response


urls: list[URLPattern] = [path("me", me, name="console-me")]
