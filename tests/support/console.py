"""The console in tests: members signed in by a session made in their tenant's schema, Django's
test client posting forms as a browser does, and a scored tenant served by gunicorn for the
browser tests.

- ``ConsoleClient``: Django's test client on one tenant host, CSRF checks on, posting forms
  with the CSRF token of a page it loads first.
- ``member_signed_in(slug, role)``: an active member of that role and a session token.
- ``console_site(...)``: a committed tenant with the demo's people and ``days`` scored days,
  a member of each role, and gunicorn serving it (module-scoped fixtures build it once).
- ``sign_in(page, site, role)``: a Playwright page carrying that member's session cookie.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.test import Client

from tests.support.server import Server, gunicorn_server
from tests.support.tenants import TenantKeys, committed_tenant_made, in_tenant

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROLES = ("admin", "manager", "viewer")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def member_signed_in(slug: str, role: str, email: str | None = None, name: str = "") -> str:
    """An active member of tenant ``slug`` with ``role`` (``<role>@<slug>.example`` unless
    ``email``), and a fresh session token for the console cookie."""
    from django.contrib.auth.hashers import make_password

    from access.models import Member
    from access.sessions import session_start

    with in_tenant(slug):
        member, _ = Member.objects.update_or_create(
            email=email or f"{role}@{slug}.example",
            defaults={
                "role": role,
                "name": name or f"{role.title()} Person",
                "status": Member.Status.ACTIVE,
                "password": make_password("not-used-in-these-tests"),
            },
        )
        return session_start(member=member)


class ConsoleClient:
    """Django's test client with cookies and CSRF checks on, on one tenant host."""

    def __init__(self, host: str, session: str | None = None) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.host = host
        if session:
            self.client.cookies[settings.SSI_CONSOLE_SESSION_COOKIE] = session

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(path, query or None, HTTP_HOST=self.host)

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        match = CSRF_FIELD.search(page.content.decode())
        assert match, page.content[:500]
        return match.group(1)

    def submit(self, path: str, fields: dict[str, Any], *, form_page: str | None = None) -> Any:
        """POST ``fields`` to ``path`` with the CSRF token of ``form_page`` (default: ``path``)."""
        data = dict(fields)
        data["csrfmiddlewaretoken"] = self.csrf_token(form_page or path)
        return self.client.post(path, data, HTTP_HOST=self.host)


def console_client(tenant: TenantKeys, role: str) -> ConsoleClient:
    """A ``ConsoleClient`` signed in as ``tenant``'s member of ``role``."""
    return ConsoleClient(tenant.host, member_signed_in(tenant.slug, role))


@dataclass
class ConsoleSite:
    tenant: TenantKeys
    server: Server
    sessions: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://{self.tenant.host}:{self.server.port}{path}"


def seed_scored(slug: str, *, reps: int, days: int) -> None:
    """The demo's teams and ``reps`` reps in tenant ``slug``, with ``days`` days of the demo's
    activity up to yesterday, scored as the nightly does."""
    from provisioning.demo import demo_activity_refresh, demo_people_seed

    with in_tenant(slug) as tenant:
        demo_people_seed(reps)
    demo_activity_refresh(tenant, days_kept=days)


@contextmanager
def console_site(
    slug: str, django_db_blocker: Any, data_dir: Path, *, reps: int = 12, days: int = 21
) -> Iterator[ConsoleSite]:
    """A committed tenant with scored data, a member of each role, and gunicorn serving it."""
    with committed_tenant_made(slug, django_db_blocker, name=slug.title()) as tenant:
        with django_db_blocker.unblock():
            seed_scored(slug, reps=reps, days=days)
            sessions = {role: member_signed_in(slug, role) for role in ROLES}
        with gunicorn_server(data_dir, workers=2) as server:
            yield ConsoleSite(tenant=tenant, server=server, sessions=sessions)


def sign_in(page: Page, site: ConsoleSite, role: str) -> Page:
    """``page`` with the session cookie of ``site``'s member of ``role``."""
    page.context.add_cookies(
        [
            {
                "name": settings.SSI_CONSOLE_SESSION_COOKIE,
                "value": site.sessions[role],
                "domain": site.tenant.host,
                "path": "/console/",
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    return page


def field_error(page: str, field_id: str) -> str:
    """The error text shown for the control ``field_id`` (the element its aria-describedby names)."""
    control = re.search(rf'id="{field_id}"[^>]*aria-describedby="([^"]+)"', page)
    assert control, f"{field_id} names no description"
    for described in control.group(1).split():
        error = re.search(rf'<p class="field-error" id="{described}">([^<]+)</p>', page)
        if error:
            return error.group(1)
    raise AssertionError(f"no error next to {field_id}")


def site_api(site: ConsoleSite, path: str) -> Any:
    """``GET path`` on the site's tenant with its read key: the JSON answer (200 expected)."""
    from tests.support.server import HttpClient

    client = HttpClient(site.server.port, host=site.tenant.host, token=site.tenant.read)
    try:
        return client.json("GET", path, expect=200)
    finally:
        client.close()
