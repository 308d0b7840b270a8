"""Contests in a real browser, driven by the visible labels of their controls.

A manager creates a contest over the last two weeks from the form, lands on its page with
the standings the API answers, then cancels it. Every page is served with the console's strict
policy, passes an axe-core scan at desktop and phone width, and is photographed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

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
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleSite]:
    with console_site("cons-contests", django_db_blocker, tmp_path_factory.mktemp("site")) as running:
        yield running


def test_a_manager_creates_a_contest_reads_its_standings_and_cancels_it(
    site: ConsoleSite, page: Page
) -> None:
    from playwright.sync_api import expect

    from core.clock import local_today

    today = local_today("Europe/Berlin")  # the site's tenant's zone
    sign_in(page, site, "manager")
    response = page.goto(site.url("/console/contests"))
    assert response is not None and response.status == 200
    assert_strict_csp(response.headers.get("content-security-policy"))
    page.get_by_role("link", name="New contest").click()
    page.get_by_label("Name").fill("Fortnight of posts")
    page.get_by_label("Metric").select_option("xp")
    page.get_by_label("Kind").select_option("leaderboard")
    page.get_by_label("Start date").fill((today - timedelta(days=13)).isoformat())
    page.get_by_label("End date").fill(today.isoformat())
    page.get_by_label("Participants").select_option(label="Everyone")
    page.get_by_label("Prize 1 rank").fill("1")
    page.get_by_label("Prize 1 XP").fill("250")
    screenshot(page, "console-contests-new-filled")
    page.get_by_role("button", name="Create contest").click()

    expect(page.get_by_role("heading", name="Contest: Fortnight of posts")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Contest created.")
    contest = int(page.url.split("/console/contests/")[1].split("?")[0])
    standings = site_api(site, f"/api/v1/contests/{contest}/standings")
    ranks = [int(t) for t in page.locator("table tbody tr td:nth-child(1)").all_inner_texts()]
    assert ranks == [r["rank"] for r in standings["results"]][: len(ranks)] and ranks
    screenshot(page, "console-contest")

    page.get_by_role("button", name="Cancel contest").click()
    expect(page.get_by_role("status")).to_have_text("Contest cancelled.")
    expect(page.get_by_role("button", name="Cancel contest")).to_have_count(0)
    assert site_api(site, f"/api/v1/contests/{contest}")["status"] == "cancelled"


def test_the_pages_pass_axe_and_are_photographed(site: ConsoleSite, axe_page: Page) -> None:
    from core.clock import local_today
    from tests.support.server import HttpClient

    today = local_today("Europe/Berlin")
    admin = HttpClient(site.server.port, host=site.tenant.host, token=site.tenant.admin)
    try:
        contest = admin.json("POST", "/api/v1/contests", {
            "name": "Photographed", "metric": "xp", "kind": "leaderboard",
            "start_date": (today - timedelta(days=6)).isoformat(), "end_date": today.isoformat(),
            "participants": {"all": True},
        }, expect=201)["id"]  # fmt: skip
    finally:
        admin.close()
    sign_in(axe_page, site, "manager")
    pages = {"/console/contests": "console-contests", "/console/contests/new": "console-contests-new",
             f"/console/contests/{contest}": "console-contest-page"}  # fmt: skip
    for path, name in pages.items():
        axe_page.set_viewport_size(DESKTOP)
        response = axe_page.goto(site.url(path))
        assert response is not None and response.status == 200, path
        assert not serious(axe_page), (path, [str(v) for v in serious(axe_page)])
        screenshot(axe_page, name)
        axe_page.set_viewport_size(PHONE)
        axe_page.reload()
        assert not serious(axe_page), (path, [str(v) for v in serious(axe_page)])
        screenshot(axe_page, f"{name}-phone")
