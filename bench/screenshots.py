"""``make screenshots``: every console page of ``console.catalog`` from the demo tenant, at
desktop (1280 px) and phone (375 px) width, into ``docs/console/<page>-desktop.jpg`` and
``-phone.jpg``, and the gallery of ``docs/console.md`` rewritten from them.

1. PostgreSQL: ``DATABASE_URL``, else the embedded server (started if needed, stopped at the end
   if this run started it); ``setup_db`` brings it up to date.
2. The demo tenant as ``make run`` makes it (``provisioning.demo``): ``demo_ensure`` when the
   tenant or its admin member is missing, else only its activity brought up to yesterday, so a
   ``make run`` serving the same database keeps its keys and invitation link.
3. A session of the demo admin member (``access.sessions``, no password), the demo's top rep
   (by SSI) for ``/console/reps/<id>`` and a rep token of that rep for ``/console/me``
   (``access.rep_tokens``, as the API mints them).
4. gunicorn on a free port of 127.0.0.1; each page is first fetched (``page_answers``): one that
   answers an error, or sends a member to the sign-in page, is reported and not shot.
5. Headless Chromium (Debian's, or ``SSI_CHROMIUM``) through Playwright, full-page JPEGs (cut
   at ``MAX_HEIGHT``), once the page's scripts are done (no request for half a second).

``SCREENSHOT_PAGES=overview,reps`` shoots only those pages (names as in ``console.catalog``).
Exit status 0 when every page answered and was shot, 1 otherwise (the pages at fault are named),
2 on a bad ``SCREENSHOT_PAGES`` or a missing browser.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from config import processes
from config.embedded import BASE_DIR
from config.processes import EmbeddedPostgres
from console.catalog import PAGES, Page, pages_named

if TYPE_CHECKING:
    from access.models import Member
    from tenants.models import Tenant

DOCS = BASE_DIR / "docs" / "console"
GALLERY = BASE_DIR / "docs/console.md"
GALLERY_BEGIN = "<!-- screenshots: begin (written by make screenshots) -->"
GALLERY_END = "<!-- screenshots: end -->"
WIDTHS = (("desktop", 1280), ("phone", 375))
HEIGHT = 800
JPEG_QUALITY = 75
# A full page taller than this (a long list at phone width) is cut here: files stay small.
MAX_HEIGHT = 4000
SIZE_WARNING_BYTES = 4 * 2**20
TOKEN_TTL_SECONDS = 600
MAX_REDIRECTS = 3
REP_TOKEN_RE = re.compile(r"ssir_[A-Za-z0-9_%-]+")


def say(message: str) -> None:
    print(f"[screenshots] {message}", flush=True)


@dataclass(frozen=True)
class Targets:
    """What the pages need: the tenant's host, a member's session token (the cookie's value), a
    rep's external id for ``{rep}`` and a rep token of that rep for ``{token}``."""

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


# --- The pages over HTTP ------------------------------------------------------------------------------


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
        host=f"{tenant.slug}.{settings.SSI_BASE_DOMAIN}", session=session, rep=top[0].external_id, token=token
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


# --- Screenshots --------------------------------------------------------------------------------------


def shoot(port: int, targets: Targets, pages: Sequence[Page]) -> list[str]:
    """A full-page JPEG of each page at each width (``docs/console/<name>-<width>.jpg``);
    the problems met (a page whose browser answer was an error)."""
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM_ARGS, chromium_path

    DOCS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, chromium_sandbox=False, args=list(CHROMIUM_ARGS)
        )
        try:
            for page in pages:
                sizes = []
                for label, width in WIDTHS:
                    context = browser.new_context(viewport={"width": width, "height": HEIGHT})
                    if page.audience == "member":
                        context.add_cookies([{
                            "name": settings.SSI_CONSOLE_SESSION_COOKIE, "value": targets.session,
                            "domain": targets.host, "path": "/console/", "httpOnly": True, "sameSite": "Lax",
                        }])  # fmt: skip
                    tab = context.new_page()
                    response = tab.goto(
                        f"http://{targets.host}:{port}{targets.url(page)}", wait_until="networkidle"
                    )
                    status = response.status if response is not None else 0
                    if status != 200:
                        problems.append(f"{page.name} ({label}): HTTP {status} in the browser")
                        context.close()
                        continue
                    path = DOCS / f"{page.name}-{label}.jpg"
                    height = min(int(tab.evaluate("document.documentElement.scrollHeight")), MAX_HEIGHT)
                    tab.screenshot(
                        path=str(path), full_page=True, type="jpeg", quality=JPEG_QUALITY,
                        clip={"x": 0, "y": 0, "width": width, "height": max(height, HEIGHT)},
                    )  # fmt: skip
                    context.close()
                    sizes.append(f"{label} {path.stat().st_size // 1024} KB")
                say(f"  {page.name:<17} {', '.join(sizes) or 'not shot'}")
        finally:
            browser.close()
    return problems


def gallery_write() -> int:
    """Rewrite the gallery of ``docs/console.md`` (between its markers) from the catalog: each
    page with both screenshots on disk, its title, path and what it is for. How many pages."""
    shown = [p for p in PAGES if all((DOCS / f"{p.name}-{label}.jpg").exists() for label, _ in WIDTHS)]
    lines = [GALLERY_BEGIN, ""]
    for page in shown:
        path = page.path.replace("{rep}", "<id>").replace("{token}", "<rep token>")
        lines += [
            f"### {page.title}",
            "",
            f"`{path}`: {page.purpose}",
            "",
            f'<img src="console/{page.name}-desktop.jpg" alt="{page.title}, desktop width" width="640"> '
            f'<img src="console/{page.name}-phone.jpg" alt="{page.title}, phone width" width="188">',
            "",
        ]
    lines.append(GALLERY_END)
    text = GALLERY.read_text()
    pattern = re.compile(re.escape(GALLERY_BEGIN) + ".*?" + re.escape(GALLERY_END), re.DOTALL)
    if not pattern.search(text):
        raise RuntimeError(f"{GALLERY.relative_to(BASE_DIR)} has no gallery markers ({GALLERY_BEGIN})")
    GALLERY.write_text(pattern.sub(lambda _: "\n".join(lines), text))
    return len(shown)


# --- The run ------------------------------------------------------------------------------------------


def demo_member() -> tuple[Tenant, Member]:
    """The demo tenant, made or brought up to date as ``make run`` does, and its admin member."""
    from django_tenants.utils import tenant_context

    from access.models import Member
    from provisioning.demo import DEMO_ADMIN_EMAIL, DEMO_SLUG, demo_activity_refresh, demo_ensure
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
    member = None
    if tenant is not None:
        with tenant_context(tenant):
            member = Member.objects.filter(email__iexact=DEMO_ADMIN_EMAIL).first()
    if tenant is None or member is None:
        say("making the demo tenant (as make run does)…")
        demo_ensure()
        tenant = Tenant.objects.get(slug=DEMO_SLUG)
        with tenant_context(tenant):
            member = Member.objects.get(email__iexact=DEMO_ADMIN_EMAIL)
    else:
        days = demo_activity_refresh(tenant)
        say(f"demo tenant up to date ({days} day(s) scored now)")
    return tenant, member


def session_end(tenant: Tenant, session: str) -> None:
    from django_tenants.utils import tenant_context

    from access.models import MemberSession
    from core.tokens import hash_token

    with tenant_context(tenant):
        MemberSession.objects.filter(key_hash=hash_token(session)).delete()


def run(pages: Sequence[Page], env: dict[str, str], data_dir: Path) -> int:
    """Setup, the answers, the shots, the gallery. 0 when every page answered and was shot."""
    say("migrating the database…")
    subprocess.run([sys.executable, "manage.py", "setup_db", "-v", "0"], env=env, check=True, cwd=BASE_DIR)
    import django

    django.setup()
    tenant, member = demo_member()
    targets = targets_for(tenant, member)
    say(f"signed in as {member.email}; top rep {targets.rep}")
    processes.broker_folders(data_dir)
    port = processes.free_port()
    web = processes.gunicorn(
        bind=f"127.0.0.1:{port}", workers=2,
        # Its own server: the per-address limit would count every page and file it loads.
        env={**env, "SSI_DATA_DIR": str(data_dir), "SSI_ANON_RATE_LIMIT_PER_MINUTE": "0"},
        log=data_dir / "gunicorn.log", own_session=True,
    ).start()  # fmt: skip
    try:
        web.wait_healthy(host="localhost", timeout=60)
        say(
            f"gunicorn on 127.0.0.1:{port}; {len(pages)} page(s) at {', '.join(f'{w} px' for _, w in WIDTHS)}"
        )
        answers = page_answers(port, targets, pages)
        for answer in answers:
            say(f"  {'ok ' if answer.problem is None else 'BAD'} {answer}")
        good = [a.page for a in answers if a.problem is None]
        problems = [str(a) for a in answers if a.problem is not None]
        problems += shoot(port, targets, good)
    finally:
        web.stop()
        session_end(tenant, targets.session)
    shown = gallery_write()
    total = sum(p.stat().st_size for p in DOCS.glob("*.jpg"))
    say(f"docs/console.md shows {shown} page(s); docs/console/ holds {total / 2**20:.1f} MiB of screenshots")
    if total > SIZE_WARNING_BYTES:
        say(
            f"warning: more than {SIZE_WARNING_BYTES // 2**20} MiB of screenshots; lower JPEG_QUALITY or MAX_HEIGHT"
        )
    if problems:
        say("pages at fault:\n  " + "\n  ".join(problems))
        if any(a.status >= 500 for a in answers):
            print(web.tail(), flush=True)
        return 1
    return 0


def main() -> int:
    os.chdir(BASE_DIR)
    try:
        pages = pages_named(os.environ.get("SCREENSHOT_PAGES", ""))
    except KeyError as exc:
        say(f"SCREENSHOT_PAGES: {exc.args[0]}")
        return 2
    from tests.support.browser import missing_browser

    reason = missing_browser()
    if reason:
        say(f"cannot take screenshots: {reason}")
        return 2
    env = os.environ.copy()
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("DJANGO_DEBUG", "false")  # the pages as production shows them
    postgres = None
    if not env.get("DATABASE_URL", "").strip():
        embedded = EmbeddedPostgres()
        env["DATABASE_URL"] = embedded.start()
        postgres = embedded if embedded.started_here else None
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DATABASE_URL")})
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="ssi-screenshots-") as tmp:
            code = run(pages, env, Path(tmp))
    finally:
        if postgres is not None:
            postgres.stop()
    say(f"done in {time.monotonic() - started:.0f}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
