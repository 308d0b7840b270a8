"""Fixtures of the browser tests: one headless Chromium per module, a fresh context per test.

``page`` enforces the page's own Content-Security-Policy, as a visitor's browser does;
``axe_page`` bypasses it so that axe-core can be injected (``tests.support.browser.serious``).
A test whose body fails leaves a full-page screenshot in ``.data/screenshots/failures/``.
Tests that use the browser get the ``browser`` marker (``-m browser`` selects them).

Our own fixtures rather than pytest-playwright's: we launch Debian's Chromium with this
machine's flags, skip (or, under ``SSI_REQUIRE_BROWSER=1``, fail) with one line when it is
missing, and need nothing else of that plugin.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, NoReturn

import pytest
from django.db import connections

from tests.support.browser import CHROMIUM_ARGS, SCREENSHOTS, browser_required, chromium_path, missing_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

VIEWPORT = {"width": 1280, "height": 800}
CALL_FAILED = pytest.StashKey[bool]()
NO_BROWSER = "browser tests skipped: "


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"browser", "page", "axe_page"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    if report.skipped and isinstance(report.longrepr, tuple) and NO_BROWSER in report.longrepr[2]:
        # Every test skipped for want of a browser at one place: `-ra` folds them into one line.
        report.longrepr = (__file__, _skip_browser_tests.__code__.co_firstlineno, report.longrepr[2])
    return report


def _skip_browser_tests(reason: str) -> NoReturn:
    pytest.skip(f"{NO_BROWSER}{reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (``SSI_CHROMIUM``, else Debian's), launched once per module.

    Playwright's sync API keeps an asyncio loop marked running on this thread from start to
    stop, and Django then refuses every query as "async" (``SynchronousOnlyOperation``). So the
    browser lives for one module, not the session (tests after it get a plain thread back),
    and while it lives ``DJANGO_ALLOW_ASYNC_UNSAFE`` lets the test's own queries through: the
    loop runs only Playwright's messages, never our ORM calls."""
    reason = missing_browser()
    if reason:
        if browser_required():
            reason += " (SSI_REQUIRE_BROWSER=1: they may not be skipped)"
            pytest.fail(f"browser tests failed: {reason}", pytrace=False)
        _skip_browser_tests(reason)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as env:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            chromium = playwright.chromium.launch(
                executable_path=chromium_path(),
                headless=True,
                chromium_sandbox=False,
                args=list(CHROMIUM_ARGS),
            )
            yield chromium
            chromium.close()
        finally:
            # Connections opened while the loop ran are kept apart from the plain thread's
            # (asgiref's Local): close them now, or the test database cannot be dropped at the end.
            connections.close_all()
            playwright.stop()


def _page(browser: Browser, request: pytest.FixtureRequest, *, bypass_csp: bool) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=bypass_csp)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
        if request.node.stash.get(CALL_FAILED, False):
            name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.nodeid).strip("-")
            (SCREENSHOTS / "failures").mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "failures" / f"{name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context (no cookies, no storage), the site's CSP enforced."""
    yield from _page(browser, request, bypass_csp=False)


@pytest.fixture
def axe_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context that ignores the site's CSP, so that axe-core can be injected."""
    yield from _page(browser, request, bypass_csp=True)
