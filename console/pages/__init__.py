"""The console's signed-in pages, one module per page (or group of pages).

Each module defines ``urls``: its URL patterns under ``/console/``, gathered by
``console/urls.py``. A page is a view wrapped in ``console_page``: it answers only a
signed-in member whose role reaches the page's, reads through the same selectors and writes
through the same services as the API (no business rule lives here), and renders a template of
``console/templates/console/``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, ParamSpec
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from access.actor import Actor
from access.models import AuditEntry, Member, MemberRole
from console.auth import signed_in_member

LOGIN = "/console/login"
# What each role may do, in order: a page names the least role it needs.
ROLE_ORDER = (MemberRole.VIEWER, MemberRole.MANAGER, MemberRole.ADMIN)

P = ParamSpec("P")


def role_reaches(member: Member | None, role: str) -> bool:
    """Whether ``member``'s role is ``role`` or above it (viewer < manager < admin)."""
    if member is None:
        return False
    ranks = {str(value): rank for rank, value in enumerate(ROLE_ORDER)}
    return ranks.get(member.role, -1) >= ranks[role]


def member_of(request: HttpRequest) -> Member:
    """The signed-in member of a request ``console_page`` let through."""
    member: Member = request.member  # type: ignore[attr-defined]
    return member


def actor_of_member(request: HttpRequest) -> Actor:
    """Who makes a change from the console, as the audit log records it: the signed-in member
    (their id, email and role) and the request's id. Services take it as the API's take a key's."""
    member = member_of(request)
    return Actor(
        kind=AuditEntry.ActorKind.MEMBER,
        key_id=member.pk,
        name=member.email[:100],
        role=member.role,
        request_id=str(getattr(request, "request_id", "")),
    )


def console_page(
    *, role: str = MemberRole.VIEWER, methods: Sequence[str] = ("GET",), write_role: str | None = None
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A console page for members whose role reaches ``role``; a POST to it, for those whose
    role reaches ``write_role`` (default ``role``): a page every member reads may have a form
    only some may send.

    No session (or an expired one): a GET goes to the sign-in page and comes back after it
    (``?next=``); any other method is sent to the sign-in page. A role below ``role``: 403,
    the "not for your role" page. The member is ``request.member`` (``member_of``)."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @require_http_methods(list(methods))
        def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            member = signed_in_member(request)
            if member is None:
                # A cookie that names no session counts against the address, as a bad key does.
                request.credential_refused = True  # type: ignore[attr-defined]
                target = LOGIN
                if request.method == "GET" and request.get_full_path() != "/console/":
                    target += "?next=" + quote(request.get_full_path(), safe="/")
                return HttpResponseRedirect(target)
            request.member = member  # type: ignore[attr-defined]
            needed = write_role if write_role and request.method == "POST" else role
            if not role_reaches(member, needed):
                return render(request, "console/forbidden.html", {"needed": needed}, status=403)
            return view(request, *args, **kwargs)

        return page

    return wrap


def safe_next(value: str) -> str:
    """Where to go after signing in: a path inside the console, else the overview (never
    another host: no open redirect)."""
    if value.startswith("/console/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console/"
