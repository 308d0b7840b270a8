"""The Swagger UI page in a real browser, served by gunicorn as in production.

It proves the browser tooling on a page that exists: the page renders under its own
Content-Security-Policy (assets from this host, drf-spectacular-sidecar; no CDN), shows the
API's title and its operations, and an operation opens. axe-core scans it; Swagger UI is a
third-party page, so its serious violations are reported, not asserted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import screenshot, serious
from tests.support.http import PLATFORM_HOST
from tests.support.server import Server, gunicorn_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.worker  # starts gunicorn


@pytest.fixture(scope="module")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """gunicorn on the test database; the docs page is on the platform host and needs no tenant."""
    with gunicorn_server(tmp_path_factory.mktemp("browser"), workers=1) as running:
        yield running


def docs_url(server: Server) -> str:
    return f"http://{PLATFORM_HOST}:{server.port}/api/v1/docs/"


def test_swagger_ui_renders_the_api_and_opens_an_operation_under_its_own_csp(
    server: Server, page: Page
) -> None:
    from playwright.sync_api import expect

    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))

    response = page.goto(docs_url(server))
    assert response is not None and response.status == 200

    page.get_by_role("heading", name=re.compile(r"^SSI Cloud API ")).wait_for()
    for tag in ("platform", "api-keys", "reps", "activities", "leaderboards"):
        page.get_by_role("heading", name=re.compile(rf"^{tag} ")).wait_for()
    operation = page.get_by_role(
        "button", name="GET /api/v1/platform/tenants/{slug} Get a tenant", exact=True
    )
    expect(operation).to_have_attribute("aria-expanded", "false")
    screenshot(page, "swagger-ui", full_page=False)

    operation.click()
    expect(operation).to_have_attribute("aria-expanded", "true")
    opened = page.locator("#operations-platform-platform_tenants_retrieve")
    opened.get_by_role("heading", name="Parameters").wait_for()
    opened.get_by_role("button", name="Try it out").wait_for()
    opened.get_by_role("cell", name=re.compile(r"^slug")).first.wait_for()  # the path parameter
    opened.get_by_role("heading", name="Responses").wait_for()
    opened.scroll_into_view_if_needed()
    shot = screenshot(page, "swagger-ui-operation", full_page=False)
    assert shot.stat().st_size > 10_000

    assert not refused, refused
    assert not failed, failed


def test_swagger_ui_axe_scan_is_recorded(
    server: Server, axe_page: Page, record_property: Callable[[str, object], None]
) -> None:
    axe_page.goto(docs_url(server))
    axe_page.get_by_role("heading", name=re.compile(r"^SSI Cloud API")).wait_for()
    axe_page.locator(".opblock").first.wait_for()
    found = serious(axe_page)
    record_property("axe_serious_violations", len(found))
    print(f"axe-core on Swagger UI: {len(found)} serious or critical violation(s)")
    for violation in found:
        print(f"  {violation}")
