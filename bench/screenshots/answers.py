"""The console's pages over HTTP, as ``make screenshots`` checks them before it shoots: what
their paths and cookies need (``Targets``) and each page's answer (``Answer``)."""

from __future__ import annotations

import http.client
import re
from collections.abc import Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from console.catalog import PAGES, Page

if TYPE_CHECKING:
    from access.models import Member
    from tenants.models import Tenant

TOKEN_TTL_SECONDS = 600
MAX_REDIRECTS = 3
REP_TOKEN_RE = re.compile(r"ssir_[A-Za-z0-9_%-]+")


@dataclass(frozen=True)
class Targets:
    """What the pages need: the tenant's host, a member's session token (the cookie's value), a
    rep's id for ``{rep}`` and a rep token of that rep for ``{token}``."""

    host: str
    session: str
    rep: str
    token: str

    def url(self, page: Page) -> str:
        return page.url(rep=self.rep, token=self.token)


@dataclass(frozen=True)
class Answer:
    page: Page
    url: str
    status: int
    landed: str  # the path the last redirect led to
    problem: str | None  # None: the page answered as it should

    def __str__(self) -> str:
        where = f" (at {self.landed})" if self.landed != urlsplit(self.url).path else ""
        shown = REP_TOKEN_RE.sub("ssir_…", self.url)  # a rep token is a secret: never printed
        return f"{self.page.name}: GET {shown}: HTTP {self.status}{where}" + (
            f": {self.problem}" if self.problem else ""
        )


def targets_for(tenant: Tenant, member: Member) -> Targets:
    """A fresh session of ``member``, the tenant's top rep by SSI on its latest scored day, and a
    rep token of that rep: everything the catalog's paths and cookies need."""
    from django.conf import settings
    from django_tenants.utils import tenant_context

    from access.rep_tokens import rep_token_create
    from access.sessions import session_start
    from gamification.leaderboards import leaderboard_get

    with tenant_context(tenant):
        session = session_start(member=member)
        top = leaderboard_get(tenant=tenant, metric="ssi")[0:1]
        if not top:
            raise RuntimeError(f"tenant {tenant.slug} has no ranked rep: no scored day")
        token = rep_token_create(rep_id=top[0].rep_id, ttl_seconds=TOKEN_TTL_SECONDS).token
    return Targets(
        host=f"{tenant.slug}.{settings.SSI_BASE_DOMAIN}", session=session, rep=str(top[0].rep_id), token=token
    )


def page_answer(port: int, targets: Targets, page: Page) -> Answer:
    """GET ``page`` as the browser would (the member's cookie for a member's page, none for the
    others), following redirects on the same host with the cookies they set."""
    from django.conf import settings

    url = path = targets.url(page)
    cookies: dict[str, str] = {}
    if page.audience == "member":
        cookies[settings.SSI_CONSOLE_SESSION_COOKIE] = targets.session
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            headers = {"Host": targets.host, "Accept": "text/html"}
            if cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                cookies.update({k: m.value for k, m in SimpleCookie(value).items()})
            location = response.headers.get("Location", "")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                break
            target = urlsplit(location)
            if target.netloc and target.netloc.split(":")[0] != targets.host:
                break
            path = target.path + (f"?{target.query}" if target.query else "")
    finally:
        conn.close()
    landed = urlsplit(path).path
    return Answer(page, url, response.status, landed, problem_of(page, response.status, landed))


def problem_of(page: Page, status: int, landed: str) -> str | None:
    """Why an answer is not the page (None when it is)."""
    if status >= 400:
        return "an error page"
    if status != 200:
        return "no page (a redirect out of the console)"
    if page.audience != "anyone" and landed == "/console/login":
        return "sent to the sign-in page: the session was refused"
    return None


def page_answers(port: int, targets: Targets, pages: Sequence[Page] = PAGES) -> list[Answer]:
    """Every page's answer, in the catalog's order."""
    return [page_answer(port, targets, page) for page in pages]
