"""Badges and goals in a real browser, driven by the visible labels of their controls.

A manager makes a badge with the criteria builder (the script adds and removes a row), finds
it in the list, edits it, opens the awards feed, and makes a goal for a rep by its external
id. Every page is served with the console's strict policy, passes an axe-core scan, and is
photographed at desktop and phone width.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import screenshot, serious
from tests.support.console import ConsoleSite, console_site, sign_in
from tests.support.csp import assert_strict_csp
from tests.support.tenants import in_tenant

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

pytestmark = pytest.mark.worker  # starts gunicorn

PHONE: ViewportSize = {"width": 375, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PAGES = (
    "/console/badges",
    "/console/badges/new",
    "/console/badges/awards",
    "/console/goals",
    "/console/goals/new",
)


@pytest.fixture(scope="module")
def site(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleSite]:
    with console_site("cons-badges", django_db_blocker, tmp_path_factory.mktemp("site")) as running:
        yield running


def test_a_manager_builds_a_badge_edits_it_and_makes_a_goal(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, site, "manager")
    response = page.goto(site.url("/console/badges"))
    assert response is not None and response.status == 200
    assert_strict_csp(response.headers.get("content-security-policy"))
    page.get_by_role("link", name="New badge").click()

    page.get_by_label("Name").fill("Weekly writer")
    page.get_by_label("Slug").fill("weekly-writer")
    page.get_by_label("Description").fill("Three posts in a week, or an SSI of 80.")
    page.get_by_label("XP reward").fill("40")
    page.get_by_label("Repeat").select_option("weekly")
    page.get_by_label("Combine").select_option("any")
    first = page.get_by_role("group", name="Condition 1")
    first.get_by_label("Metric").select_option("events.post_published")
    first.get_by_label("Operator").select_option(">=")
    first.get_by_label("Value").fill("3")
    first.get_by_label("Window (days)").fill("7")
    page.evaluate("window.stillThisPage = true")  # gone if a button sent the form instead
    page.get_by_role("button", name="Add a condition").click()  # the script adds a fourth row
    expect(page.get_by_role("group", name="Condition 4")).to_be_visible()
    expect(page.get_by_role("group", name="Condition 4").get_by_label("Metric")).to_be_focused()
    page.get_by_role("button", name="Remove condition 2").click()  # and renumbers the rest
    expect(page.get_by_role("group", name="Condition 4")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove condition 3")).to_be_visible()
    assert page.evaluate("window.stillThisPage") is True
    second = page.get_by_role("group", name="Condition 2")
    second.get_by_label("Metric").select_option("ssi")
    second.get_by_label("Value").fill("80")
    page.get_by_role("button", name="Create badge").click()

    expect(page).to_have_url(re.compile(r"/console/badges\?done=created$"))
    expect(page.get_by_role("status")).to_have_text("Badge created.")
    row = page.get_by_role("row").filter(has_text="weekly-writer")
    expect(row).to_contain_text("events.post_published ≥ 3 in 7 days or ssi ≥ 80")

    row.get_by_role("link", name="Weekly writer", exact=True).click()
    expect(page.get_by_role("group", name="Condition 1").get_by_label("Window (days)")).to_have_value("7")
    second = page.get_by_role("group", name="Condition 2")
    second.get_by_label("Window (days)").fill("7")
    page.get_by_role("button", name="Save badge").click()  # ssi takes no window: refused, next to it
    second = page.get_by_role("group", name="Condition 2")
    expect(second.get_by_label("Window (days)")).to_have_accessible_description(
        re.compile("Only events.* and sum.* take a window.")
    )
    screenshot(page, "console-badges-edit-error")
    second.get_by_label("Window (days)").fill("")
    second.get_by_label("Value").fill("85")
    page.get_by_text("Advanced: criteria JSON").click()
    expect(page.get_by_label("Criteria JSON")).to_contain_text('"window_days": 7')
    page.get_by_role("button", name="Save badge").click()
    expect(page.get_by_role("status")).to_have_text("Badge saved.")
    expect(page.get_by_role("row").filter(has_text="weekly-writer")).to_contain_text("ssi ≥ 85")

    page.get_by_role("link", name="Awards feed").click()
    expect(page.get_by_role("heading", name="Awards feed")).to_be_visible()
    page.get_by_label("Badge").select_option("weekly-writer")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"badge=weekly-writer"))

    with in_tenant(site.tenant.slug):
        from scoring.models import Rep

        rep = Rep.objects.order_by("id").first()
        assert rep is not None
    page.get_by_role("link", name="Goals", exact=True).click()
    page.get_by_role("link", name="New goal").click()
    page.get_by_label("A rep").check()
    page.get_by_label("Rep (external id)").fill(rep.external_id)
    page.get_by_label("Title").fill("Twenty posts this quarter")
    page.get_by_label("Metric").select_option("events.post_published")
    page.get_by_label("Target").fill("20")
    page.get_by_label("Start date").fill("2026-01-01")
    page.get_by_label("End date").fill("2030-12-31")
    page.get_by_role("button", name="Create goal").click()
    expect(page.get_by_role("status")).to_have_text("Goal created.")
    expect(page.get_by_label("Progress of Twenty posts this quarter")).to_be_visible()


def test_a_viewer_sees_no_buttons(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, site, "viewer")
    page.goto(site.url("/console/badges"))
    expect(page.get_by_role("heading", name="Badges")).to_be_visible()
    expect(page.get_by_role("link", name="New badge")).to_have_count(0)
    page.get_by_role("link", name="First post", exact=True).click()
    expect(page.get_by_label("Name")).to_be_disabled()
    expect(page.get_by_role("button", name="Save badge")).to_have_count(0)
    expect(page.get_by_role("button", name="Deactivate badge")).to_have_count(0)
    response = page.goto(site.url("/console/badges/new"))
    assert response is not None and response.status == 403


def test_the_pages_pass_axe_and_are_photographed(site: ConsoleSite, axe_page: Page) -> None:
    sign_in(axe_page, site, "manager")
    for path in PAGES:
        name = "console-" + path.removeprefix("/console/").replace("/", "-")
        axe_page.set_viewport_size(DESKTOP)
        response = axe_page.goto(site.url(path))
        assert response is not None and response.status == 200, path
        assert not serious(axe_page), (path, [str(v) for v in serious(axe_page)])
        screenshot(axe_page, name)
        axe_page.set_viewport_size(PHONE)
        axe_page.reload()
        assert not serious(axe_page), (path, [str(v) for v in serious(axe_page)])
        screenshot(axe_page, f"{name}-phone")
