"""The console of a suspended tenant: every page answers 403 with one page saying so.

Runs right after tenant routing (``config/settings/base.py``'s ``MIDDLEWARE``), before any
view: no session is read, no sign-in is possible, no form is accepted, whatever the cookie.
Sessions are kept as they are, so members who were signed in find their console again once
the platform restores the tenant. The API's answer to the same tenant is ``api.auth``'s
403 ``tenant_suspended``; paths outside ``/console/`` (health probes, the API documents) are
untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONSOLE_PATH = "/console/"


class SuspendedTenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.suspended_at is not None and request.path.startswith(CONSOLE_PATH):
            return render(request, "console/suspended.html", {"tenant_name": tenant.name}, status=403)
        return self.get_response(request)
