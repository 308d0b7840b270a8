"""The overview and the leaderboards in a real browser, on a tenant with 40 scored days of
the demo's activity: the company's SSI is the API's, uPlot draws the trend and its numbers
are a table, the Range and the leaderboard's filters work by their labels, the pages keep
the strict CSP and pass an axe-core scan, at desktop and phone width."""

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
    with console_site("cons-overview", django_db_blocker, tmp_path_factory.mktemp("site"), days=40) as s:
        yield s


def chart_rows(page: Page) -> int:
    return page.locator(".chart-numbers tbody tr").count()


def test_the_overview_shows_the_apis_figure_and_draws_the_trend(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    company = site_api(site, "/api/v1/company/ssi")
    sign_in(page, site, "viewer")
    response = page.goto(site.url("/console/"))
    assert response is not None and response.status == 200
    assert_strict_csp(response.headers.get("content-security-policy"))

    expect(page.locator("#company-ssi")).to_have_text(f"{company['mean']:.2f}")
    expect(page.get_by_text(f"Latest scored day {company['date']}")).to_be_visible()
    good = page.locator("#band-good td").first
    expect(good).to_have_text(str(company["bands"]["good"]))
    # uPlot draws into the chart's div; the same numbers are a table.
    expect(page.locator(".chart-canvas canvas").first).to_be_attached()
    assert chart_rows(page) == 40
    expect(page.get_by_role("heading", name="Biggest rises this week")).to_be_visible()
    expect(page.get_by_role("heading", name="Recent awards")).to_be_visible()
    screenshot(page, "console-overview-desktop")
    page.set_viewport_size(PHONE)
    expect(page.locator("#company-ssi")).to_be_visible()
    screenshot(page, "console-overview-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at phone width ({width}px)"
    page.get_by_text("Numbers behind").click()
    expect(page.locator(".chart-numbers table")).to_be_visible()
    last = page.locator(".chart-numbers tbody tr").last
    expect(last).to_have_text(re.compile(rf"{company['date']}\s*{company['mean']:.2f}"))


def test_the_range_changes_the_days_shown(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, site, "viewer")
    page.goto(site.url("/console/"))
    page.get_by_label("Range").select_option(label="30 days")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"range=30"))
    expect(page.locator(".chart-canvas canvas").first).to_be_attached()
    assert chart_rows(page) == 30
    page.get_by_label("Range").select_option(label="All")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"range=all"))
    assert chart_rows(page) == 40


def test_a_leaderboard_filtered_by_its_labels(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, site, "viewer")
    response = page.goto(site.url("/console/leaderboards"))
    assert response is not None and response.status == 200
    assert_strict_csp(response.headers.get("content-security-policy"))
    team = page.get_by_label("Team").locator("option").nth(1).inner_text()
    page.get_by_label("Metric").select_option(label="XP")
    page.get_by_label("Period").select_option(label="Week (Monday to Sunday)")
    page.get_by_label("Team").select_option(label=team)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"metric=xp&period=week&team=\d+"))
    expect(page.get_by_role("heading", name=f"XP · {team}")).to_be_visible()
    team_cells = page.locator("#leaderboard tbody tr td:nth-child(3)")
    expect(team_cells.first).to_have_text(team)
    assert set(team_cells.all_inner_texts()) == {team}
    team_id = re.search(r"team=(\d+)", page.url).group(1)  # type: ignore[union-attr]
    board = site_api(site, f"/api/v1/leaderboards/xp?period=week&team={team_id}")
    ranks = [int(t) for t in page.locator("#leaderboard tbody tr td:nth-child(1)").all_inner_texts()]
    assert ranks == [r["rank"] for r in board["results"]]
    screenshot(page, "console-leaderboards-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "console-leaderboards-phone")


@pytest.mark.parametrize("path", ["/console/", "/console/leaderboards?metric=ssi"])
def test_no_serious_accessibility_violation(site: ConsoleSite, axe_page: Page, path: str) -> None:
    sign_in(axe_page, site, "viewer")
    axe_page.goto(site.url(path))
    axe_page.wait_for_load_state("load")
    for size in (DESKTOP, PHONE):
        axe_page.set_viewport_size(size)
        assert not serious(axe_page), serious(axe_page)
