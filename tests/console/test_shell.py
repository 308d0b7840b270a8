"""What every signed-in console page shares: the session check, the role check, the navigation
a role sees, and the way back after signing in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.console import ConsoleClient, console_client
from tests.support.tenants import World

pytestmark = pytest.mark.django_db


def test_no_session_goes_to_sign_in_and_comes_back(world: World, db: Any) -> None:
    answer = ConsoleClient(world.acme.host).get("/console/", range="30")
    assert answer.status_code == 302
    assert answer["Location"] == "/console/login?next=/console/%3Frange%3D30"
    login = ConsoleClient(world.acme.host).get("/console/login", next="/console/?range=30").content.decode()
    assert 'name="next" value="/console/?range=30"' in login


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/api/v1/reps", "/console\\x"]
)
def test_sign_in_never_sends_elsewhere(world: World, db: Any, target: str) -> None:
    from console.pages import safe_next

    assert safe_next(target) == "/console/"


@pytest.mark.parametrize(
    ("role", "links", "hidden"),
    [
        (
            "viewer",
            ["Overview", "Reps", "Leaderboards", "Scoring weights", "Badges", "Goals"],
            ["Webhooks", "API keys", "Members", "Audit log"],
        ),
        ("manager", ["Badges", "Goals", "Audit log"], ["Webhooks", "API keys", "Members"]),
        ("admin", ["Webhooks", "API keys", "Members"], []),
    ],
)
def test_navigation_shows_what_the_role_may_open(
    world: World, db: Any, role: str, links: list[str], hidden: list[str]
) -> None:
    page = console_client(world.acme, role).get("/console/").content.decode()
    assert 'aria-current="page">Overview</a>' in page
    for label in links:
        assert f">{label}</a>" in page
    for label in hidden:
        assert f">{label}</a>" not in page
    assert ">Sign out</button>" in page


def test_a_session_of_one_tenant_is_nothing_on_another(world: World, db: Any) -> None:
    from tests.support.console import member_signed_in

    session = member_signed_in(world.acme.slug, "admin")
    elsewhere = ConsoleClient(world.globex.host, session).get("/console/")
    assert elsewhere.status_code == 302 and elsewhere["Location"].startswith("/console/login")


def test_a_console_path_that_names_nothing_is_an_html_page(world: World, db: Any) -> None:
    answer = console_client(world.acme, "viewer").get("/console/no-such-page")
    assert answer.status_code == 404 and answer["Content-Type"].startswith("text/html")
    assert "Sign out" in answer.content.decode()
    api = ConsoleClient(world.acme.host).get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api["Content-Type"] == "application/json"
