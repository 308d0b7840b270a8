"""The console's sign-in pages on each tenant's host: invitation, sign-in, password reset,
the signed-in landing page and sign-out. Server-rendered, no inline script or style.

Views parse the form, call the ``access`` services, and render; every POST carries Django's
CSRF token (``CsrfViewMiddleware``).
"""

from __future__ import annotations

from django.contrib.auth.password_validation import password_validators_help_texts
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from access.members import (
    link_email_send,
    member_authenticate,
    member_by_link,
    member_set_password,
    password_check_rules,
    password_reset_start,
)
from access.models import Member
from access.sessions import sessions_end_all
from api.anonymous_limit import client_address
from api.errors import handler404 as api_handler404
from console.auth import forget_cookie, sign_in, signed_in_member
from console.pages import safe_next
from console.throttle import login_blocked, login_failed


def _page(name: str) -> str:
    """The template of a page: ``console/templates/console/<name>.html``."""
    return f"console/{name}.html"


HOME = "/console/"
LOGIN = "/console/login"
LOGIN_FAILED = "Email or password is not right."  # the same whatever was wrong: no account enumeration
THROTTLED = "Too many failed sign-ins. Wait 15 minutes, then try again."


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    after = safe_next(request.POST.get("next", "") or request.GET.get("next", ""))
    context: dict[str, object] = {"email": "", "next": after}
    if request.method == "POST":
        email = request.POST.get("email", "").strip()[:254]
        password = request.POST.get("password", "")
        address = client_address(request)
        context["email"] = email
        if login_blocked(email=email, address=address):
            context["error"] = THROTTLED
            return render(request, _page("login"), context, status=429)
        member = member_authenticate(email=email, password=password)
        if member is not None:
            rotate_token(request)
            return sign_in(HttpResponseRedirect(after), member)
        login_failed(email=email, address=address)
        context["error"] = LOGIN_FAILED
        return render(request, _page("login"), context, status=400)
    return render(request, _page("login"), context)


@require_http_methods(["POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """Sign out everywhere: every session of the member ends, not only this browser's."""
    member = signed_in_member(request)
    if member is not None:
        sessions_end_all(member=member)
    return forget_cookie(HttpResponseRedirect(LOGIN))


def _set_password_page(request: HttpRequest, token: str, purpose: str) -> HttpResponse:
    member = member_by_link(token=token, purpose=purpose)
    title = "Accept your invitation" if purpose == "invite" else "Choose a new password"
    if member is None:
        return render(request, _page("link_invalid"), {"title": title}, status=404)
    context: dict[str, object] = {"title": title, "member": member, "help": password_validators_help_texts()}
    if request.method == "POST":
        password = request.POST.get("password", "")
        errors = password_check_rules(member=member, password=password)
        confirm_errors = [] if password == request.POST.get("confirm", "") else ["The two passwords differ."]
        if errors or confirm_errors:
            context.update(password_errors=errors, confirm_errors=confirm_errors)
            return render(request, _page("set_password"), context, status=400)
        activated: Member | None = member_set_password(token=token, purpose=purpose, password=password)
        if activated is None:  # spent by a concurrent request
            return render(request, _page("link_invalid"), {"title": title}, status=404)
        rotate_token(request)
        return sign_in(HttpResponseRedirect(HOME), activated)
    return render(request, _page("set_password"), context)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    return _set_password_page(request, token, "invite")


@require_http_methods(["GET", "POST"])
def password_reset_link(request: HttpRequest, token: str) -> HttpResponse:
    return _set_password_page(request, token, "reset")


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link. The answer is the same whether or not the email is a member's."""
    if request.method == "POST":
        email = request.POST.get("email", "").strip()[:254]
        address = client_address(request)
        if login_blocked(email=email, address=address):
            return render(request, _page("reset_request"), {"error": THROTTLED, "email": email}, status=429)
        started = password_reset_start(email=email) if email else None
        if started is not None:
            member, token = started
            link_email_send(
                member=member,
                subject="Reset your SSI Cloud password",
                intro="Someone asked to reset the password of your SSI Cloud console. Choose a new one here "
                "(the link works once, for one hour):",
                url=request.build_absolute_uri(f"/console/password-reset/{token}"),
            )
        else:
            login_failed(email=email, address=address)  # probing for accounts counts as failures
        return render(request, _page("reset_sent"), {"email": email})
    return render(request, _page("reset_request"), {"email": ""})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without a valid CSRF token (an old page, cookies off, another site)."""
    return render(request, _page("csrf_failure"), status=403)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A console path that names nothing (a rep, badge or page not in this tenant): an HTML
    page, with the navigation when signed in. Anything else: the API's JSON 404."""
    if not request.path.startswith("/console/"):
        return api_handler404(request, exception)
    member = signed_in_member(request)
    if member is not None:
        request.member = member  # type: ignore[attr-defined]
    return render(request, _page("not_found"), status=404)
