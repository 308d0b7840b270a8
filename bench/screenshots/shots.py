"""The screenshots: headless Chromium through Playwright, a JPEG per page and width in
``docs/console/``, and the gallery of ``docs/console.md`` written from the catalog."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bench.screenshots.answers import Targets
from config.embedded import BASE_DIR
from console.catalog import PAGES, Page

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


def say(message: str) -> None:
    print(f"[screenshots] {message}", flush=True)


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
