"""Headless Chromium for the browser tests: where it is, how it starts, and axe-core's scan.

Playwright drives Debian's ``chromium`` (or the binary ``SSI_CHROMIUM`` names) through
``executable_path``: Playwright's own browser downloads are never used (``playwright install``
is not run anywhere). Without a browser the tests are skipped with one line saying how to
install one, unless ``SSI_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.

axe-core comes from the npm registry (``package.json``, pinned by ``package-lock.json``);
``serious`` injects its ``axe.min.js`` into a page and returns the violations whose impact is
serious or critical. A page with a strict Content-Security-Policy refuses the injected
script: scan a page opened in a context with ``bypass_csp=True`` (the ``axe_page`` fixture).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.embedded import BASE_DIR

if TYPE_CHECKING:
    from playwright.sync_api import Page

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# What this machine's Chromium needs headless: no sandbox (tests run as root), no GPU, and none
# of the background connections (updates, sync, QUIC probes) a closed network refuses. Playwright
# adds --headless and gives every launch a fresh, empty user-data-dir of its own.
CHROMIUM_ARGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
AXE_JS = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = BASE_DIR / ".data" / "screenshots"
SERIOUS_IMPACTS = ("serious", "critical")


def browser_required() -> bool:
    """``SSI_REQUIRE_BROWSER=1``: a missing browser fails the browser tests instead of skipping them."""
    return os.environ.get("SSI_REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes")


def chromium_path() -> str:
    """``SSI_CHROMIUM`` if set, else ``chromium`` on the PATH, else Debian's path."""
    return os.environ.get("SSI_CHROMIUM") or shutil.which("chromium") or DEFAULT_CHROMIUM


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, in one line; ``None`` when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: run `make install`"
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return (
            f"no Chromium at {path}: `apt-get install chromium`, "
            "or set SSI_CHROMIUM to a Chromium/Chrome binary"
        )
    return None


@dataclass(frozen=True)
class Violation:
    """One axe-core rule a page breaks: its id, impact, help text and the elements at fault."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.impact}: {self.rule} ({self.help}) at {', '.join(self.targets[:5])}"


def axe_violations(page: Page, *, context: str | None = None) -> list[Violation]:
    """Every axe-core violation on ``page`` (or within the CSS selector ``context``)."""
    page.add_script_tag(path=AXE_JS)
    if not page.evaluate("typeof window.axe === 'object'"):
        raise AssertionError(
            "axe-core did not load: the page's Content-Security-Policy refused the injected script; "
            "scan a page from a context with bypass_csp=True (the axe_page fixture)"
        )
    results: dict[str, Any] = page.evaluate(
        "async (context) => await axe.run(context || document, {resultTypes: ['violations']})",
        context,
    )
    return [
        Violation(
            rule=v["id"],
            impact=v.get("impact") or "",
            help=v["help"],
            targets=tuple(" ".join(map(str, node["target"])) for node in v["nodes"]),
        )
        for v in results["violations"]
    ]


def serious(page: Page, *, context: str | None = None) -> list[Violation]:
    """The serious and critical axe-core violations on ``page``: ``assert not serious(page)``."""
    return [v for v in axe_violations(page, context=context) if v.impact in SERIOUS_IMPACTS]


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save ``page`` as ``.data/screenshots/<name>.png`` and return the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
