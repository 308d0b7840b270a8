"""A rep's own page in Chromium: the rep link drops its token, the page and its headers, and
the page framed by a company's app on another site, allowed by ``embed_origins`` or not.

The company's app is a page served by a tiny ``http.server`` on ``embedder.localhost`` (another
site than the tenant's host: a cross-site frame, whose cookies Chromium keeps apart by
embedding site). Chromium treats ``*.localhost`` as secure, so the rep session's
``SameSite=None; Secure; Partitioned`` cookie works over plain http here, as over https in
production.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from config.processes import free_port
from tests.support.browser import screenshot, serious
from tests.support.console import ConsoleSite, console_site
from tests.support.csp import assert_strict_csp
from tests.support.server import HttpClient

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

pytestmark = pytest.mark.worker  # starts gunicorn

PHONE: ViewportSize = {"width": 375, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
REP = "rep-001"


@pytest.fixture(scope="module")
def site(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleSite]:
    with console_site("cons-me", django_db_blocker, tmp_path_factory.mktemp("site"), reps=6, days=14) as s:
        yield s


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A static site on ``http://embedder.localhost:<port>``: (its origin, its folder)."""
    folder = tmp_path_factory.mktemp("embedder")
    port = free_port()
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]  # quiet
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://embedder.localhost:{port}", folder
    finally:
        server.shutdown()
        server.server_close()


def api(site: ConsoleSite) -> HttpClient:
    return HttpClient(site.server.port, host=site.tenant.host, token=site.tenant.admin)


def rep_link(site: ConsoleSite, rep: str = REP) -> str:
    """A fresh rep link, as the company's app makes it: a rep token minted with the API."""
    client = api(site)
    token = client.json("POST", "/api/v1/rep-tokens", {"rep": rep}, expect=201)["token"]
    client.close()
    return site.url(f"/console/me?token={token}")


def embed_origins(site: ConsoleSite, origins: list[str]) -> None:
    client = api(site)
    saved = client.json("PATCH", "/api/v1/settings", {"embed_origins": origins}, expect=200)
    client.close()
    assert saved["embed_origins"] == origins


def rep_name(site: ConsoleSite, rep: str = REP) -> str:
    client = api(site)
    card = client.json("GET", f"/api/v1/reps/{rep}", expect=200)
    client.close()
    return str(card["name"] or rep)


def test_the_rep_link_signs_in_drops_the_token_and_signs_out(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    embed_origins(site, [])
    link = rep_link(site)
    response = page.goto(link)
    assert response is not None and response.status == 200
    assert page.url == site.url("/console/me"), page.url  # the token left the address bar
    assert "token" not in page.url
    assert response.request.redirected_from is not None
    assert response.request.redirected_from.url == link
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert_strict_csp(response.headers.get("content-security-policy"))

    expect(page.get_by_role("heading", level=1)).to_have_text(rep_name(site))
    expect(page.get_by_role("navigation", name="Console")).to_have_count(0)
    screenshot(page, "console-me")
    page.set_viewport_size(PHONE)
    screenshot(page, "console-me-phone")
    page.set_viewport_size(DESKTOP)

    # Reloading keeps the session; a member page does not open with it.
    assert page.reload() is not None
    expect(page.get_by_role("heading", level=1)).to_have_text(rep_name(site))
    page.goto(site.url("/console/"))
    expect(page).to_have_url(re.compile(r"/console/login"))

    page.goto(site.url("/console/me"))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    screenshot(page, "console-me-signed-out")
    answer = page.goto(site.url("/console/me"))
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    screenshot(page, "console-me-link-dead")
    # The same link again: the token still works until it expires, and signs in again.
    assert page.goto(link) is not None
    expect(page.get_by_role("heading", level=1)).to_have_text(rep_name(site))


def test_the_rep_page_has_no_serious_accessibility_violation(site: ConsoleSite, axe_page: Page) -> None:
    axe_page.goto(rep_link(site))
    assert not serious(axe_page)
    axe_page.set_viewport_size(PHONE)
    assert not serious(axe_page)
    axe_page.goto(site.url("/console/me?token=ssir_" + "x" * 43))
    assert not serious(axe_page)


def frame_page(embedder: tuple[str, Path], site: ConsoleSite, name: str) -> str:
    """The company's app: a page framing a fresh rep link; its URL."""
    origin, folder = embedder
    (folder / f"{name}.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Acme's app</title></head>"
        f"<body><h1>Acme's app</h1><iframe title='Your SSI' src='{rep_link(site)}'"
        " width=1000 height=600></iframe></body></html>"
    )
    return f"{origin}/{name}.html"


def test_an_allowed_origin_frames_the_page_others_do_not(
    site: ConsoleSite, embedder: tuple[str, Path], page: Page
) -> None:
    from playwright.sync_api import expect

    origin, _ = embedder
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "frame-ancestors" in message.text else None
    )

    # Nobody listed: the frame is refused.
    embed_origins(site, [])
    page.goto(frame_page(embedder, site, "none"))
    expect(page.get_by_role("heading", name="Acme's app")).to_be_visible()
    refused(page, blocked)

    # Another origin listed, not this one: refused too.
    blocked.clear()
    embed_origins(site, ["https://app.other.example"])
    page.goto(frame_page(embedder, site, "other"))
    refused(page, blocked)

    # This origin listed: the rep's page renders inside the frame, its session cookie works.
    embed_origins(site, ["https://app.other.example", origin])
    page.goto(frame_page(embedder, site, "allowed"))
    frame = page.frame_locator("iframe[title='Your SSI']")
    expect(frame.get_by_role("heading", level=1)).to_have_text(rep_name(site))
    child = next(f for f in page.frames if f != page.main_frame)
    assert child.url == site.url("/console/me"), child.url
    screenshot(page, "console-me-embedded")
    cookies = [c for c in page.context.cookies() if c["name"] == "ssi_console_rep"]
    assert cookies and cookies[0]["sameSite"] == "None" and cookies[0]["secure"], cookies
    # Sign out works inside the frame too (no CSRF cookie reaches a cross-site frame).
    frame.get_by_role("button", name="Sign out").click()
    expect(frame.get_by_role("heading", name="You are signed out")).to_be_visible()
    embed_origins(site, [])


def refused(page: Page, blocked: list[str]) -> None:
    """The frame did not load the console: Chromium refused it for its frame-ancestors."""
    from playwright.sync_api import expect

    for _ in range(50):
        if blocked:
            break
        page.wait_for_timeout(100)
    assert any("frame-ancestors" in text for text in blocked), blocked
    child = next(f for f in page.frames if f != page.main_frame)
    assert not child.url.startswith("http"), child.url
    expect(page.frame_locator("iframe[title='Your SSI']").get_by_role("heading")).to_have_count(0)
