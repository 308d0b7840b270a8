"""The reps list and a rep's page in a real browser, on a scored tenant: search and sort by
the controls' labels, open a rep, its SSI is the API's, the trend chart draws and has its
numbers, a strict CSP, no serious axe-core violation, screenshots at desktop and phone width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.browser import screenshot, serious
from tests.support.console import ConsoleSite, console_site, sign_in, site_api
from tests.support.csp import assert_strict_csp

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

pytestmark = pytest.mark.worker  # starts gunicorn

PHONE: ViewportSize = {"width": 375, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def site(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleSite]:
    with console_site("cons-reps", django_db_blocker, tmp_path_factory.mktemp("site")) as s:
        yield s


def column(page: Page, index: int) -> list[str]:
    """The texts of the reps table's column ``index`` (0: the rep)."""
    texts: list[str] = page.eval_on_selector_all(
        "table.reps tbody tr", "(rows, i) => rows.map((row) => row.cells[i].innerText.trim())", index
    )
    return texts


def test_search_sort_and_open_a_rep(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, site, "viewer")
    response = page.goto(site.url("/console/reps"))
    assert response is not None and response.status == 200
    assert_strict_csp(response.headers.get("content-security-policy"))
    expect(page.get_by_role("status")).to_contain_text("12 reps")
    assert len(column(page, 0)) == 12
    ssis = [float(v) for v in column(page, 2) if v != "\N{EN DASH}"]
    assert ssis == sorted(ssis, reverse=True) and ssis  # SSI, highest first, by default
    screenshot(page, "console-reps-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "console-reps-phone")
    page.set_viewport_size(DESKTOP)

    # Sort by XP, lowest first.
    page.get_by_label("Sort by").select_option(label="XP")
    page.get_by_label("Order").select_option(label="Lowest first")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"sort=xp&order=asc"))
    xps = [int(v) for v in column(page, 4)]
    assert xps == sorted(xps) and len(xps) == 12

    # Search the rep with the least XP by its external id (names may repeat, ids do not).
    first, external_id = (line.strip() for line in column(page, 0)[0].splitlines())
    page.get_by_label("Search").fill(external_id)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status")).to_contain_text("1 rep ")
    assert column(page, 0) == [f"{first}\n{external_id}"]
    link = page.get_by_role("link", name=first, exact=True)

    # Open it: its SSI and rank are the API's.
    link.click()
    expect(page).to_have_url(re.compile(r"/console/reps/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(first)
    ssi = site_api(site, f"/api/v1/reps/{external_id}/ssi")
    expect(page.locator("#rep-ssi")).to_have_text(f"{ssi['ssi']:.2f}")
    tenant_rank = ssi["rank"]["tenant"]
    expect(page.get_by_text(f"In the company: {tenant_rank['rank']} of {tenant_rank['of']}")).to_be_visible()
    # The chart draws a canvas, and its numbers are one click away.
    expect(page.locator(".chart-canvas canvas").first).to_be_visible()
    page.get_by_text(re.compile("^Numbers behind")).click()
    table = page.locator(".chart-numbers table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(90)
    # The streak calendar: 12 weeks of days in words.
    expect(page.locator("table.streak-calendar tbody tr")).to_have_count(12)
    assert (
        page.locator("table.streak-calendar td .visually-hidden")
        .first.inner_text()
        .endswith(("active", "inactive", "not yet", "not counted)"))
    )
    page.get_by_role("link", name="← All reps").click()
    expect(page).to_have_url(re.compile(r"/console/reps$"))


def test_the_rep_page_at_desktop_and_phone_width(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, site, "viewer")
    page.goto(site.url("/console/reps"))
    page.locator("table.reps tbody tr a").first.click()
    response = page.reload()
    assert response is not None
    assert_strict_csp(response.headers.get("content-security-policy"))
    expect(page.locator(".chart-canvas canvas").first).to_be_visible()
    screenshot(page, "console-rep-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator(".chart-canvas canvas").first).to_be_visible()
    screenshot(page, "console-rep-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at phone width ({width}px)"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_no_serious_accessibility_violation(site: ConsoleSite, axe_page: Page, viewport: str) -> None:
    axe_page.set_viewport_size(PHONE if viewport == "phone" else DESKTOP)
    sign_in(axe_page, site, "viewer")
    axe_page.goto(site.url("/console/reps"))
    assert not serious(axe_page)
    axe_page.locator("table.reps tbody tr a").first.click()
    axe_page.wait_for_url(re.compile(r"/console/reps/\d+$"))
    axe_page.locator(".chart-canvas canvas").first.wait_for()
    assert not serious(axe_page)
