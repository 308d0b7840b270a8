"""The contests pages: the list, a contest with its standings, the form, and cancelling.

They read and write through the services the API uses: a contest made by the form is the one
the API makes from the same fields, the standings are the API's rows, and the service's errors
show next to their field. acme (Europe/Berlin, UTC+1 in March): team North with ann and bob,
team South with dan; ann posts 3 times, bob once, dan twice in the first week of March 2026.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gamification.models import Contest
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.console import console_client, field_error
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

COMPARED = (
    "name",
    "metric",
    "kind",
    "target",
    "aggregate",
    "start_date",
    "end_date",
    "participants",
    "prizes",
)


@pytest.fixture
def people(world: World, acme: ApiClient) -> dict[str, int]:
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        for name, team in (("ann", north), ("bob", north), ("dan", south)):
            RepFactory.create(external_id=name, name=name.title(), team=team)
    events = [
        {
            "id": f"c-{rep}-{i}",
            "rep": rep,
            "type": "post_published",
            "occurred_at": f"2026-03-0{2 + i}T09:00:00+01:00",
        }
        for rep, n in (("ann", 3), ("bob", 1), ("dan", 2))
        for i in range(n)
    ]
    assert acme.post("/api/v1/activities", {"events": events}).json()["rejected"] == []
    return {"north": north.pk, "south": south.pk}


def form(**fields: str) -> dict[str, str]:
    data = {
        "name": "March week", "metric": "events.post_published", "kind": "leaderboard", "target": "",
        "aggregate": "", "start_date": "2026-03-02", "end_date": "2026-03-08", "who": "all", "among": "",
        "prize-0-rank": "1", "prize-0-xp": "100", "prize-0-badge": "",
        "prize-1-rank": "", "prize-1-xp": "", "prize-1-badge": "",
        "prize-2-rank": "", "prize-2-xp": "", "prize-2-badge": "",
    }  # fmt: skip
    return data | fields


def newest(acme: ApiClient) -> dict[str, Any]:
    results: list[dict[str, Any]] = acme.get("/api/v1/contests").json()["results"]
    return max(results, key=lambda c: c["id"])


def standings_rows(page: str) -> list[tuple[str, str, str]]:
    """(rank, rep id, value) of each row of the standings table."""
    body = page.split("<caption", 2)[-1]
    rep = r'<td><a href="[^"]+">[^<]+</a> <span class="muted">\(([^)]+)\)</span></td>'
    return re.findall(rf'<td class="num">(\d+)</td>\s*{rep}\s*<td class="num">([^<]+)</td>', body)


def test_a_contest_made_by_the_form_is_the_one_the_api_makes(
    world: World, acme: ApiClient, people: dict[str, int]
) -> None:
    manager = console_client(world.acme, "manager")
    answer = manager.submit("/console/contests/new", form(who="teams", among="north, South"))
    made = newest(acme)
    assert answer.status_code == 303 and answer["Location"] == f"/console/contests/{made['id']}?done=created"
    body = {"name": "March week", "metric": "events.post_published", "kind": "leaderboard",
            "start_date": "2026-03-02", "end_date": "2026-03-08", "prizes": [{"rank": 1, "xp": 100}],
            "participants": {"teams": [people["north"], people["south"]]}}  # fmt: skip
    expected = acme.post("/api/v1/contests", body).json()
    assert {k: made[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}
    with in_tenant("acme"):
        from access.models import AuditEntry

        entry = AuditEntry.objects.get(target_type="contest", target_id=str(made["id"]))
        assert entry.actor_name == "manager@acme.example" and entry.action == "create"


def test_the_contest_page_shows_the_apis_standings(
    world: World, acme: ApiClient, people: dict[str, int]
) -> None:
    viewer = console_client(world.acme, "viewer")
    assert console_client(world.acme, "admin").submit("/console/contests/new", form()).status_code == 303
    contest = newest(acme)["id"]
    page = viewer.get(f"/console/contests/{contest}").content.decode()
    api = acme.get(f"/api/v1/contests/{contest}/standings").json()["results"]
    assert standings_rows(page) == [(str(r["rank"]), r["rep"], f"{r['value']:g}") for r in api]
    assert standings_rows(page) == [("1", "ann", "3"), ("2", "dan", "2"), ("3", "bob", "1")]
    assert "March week" in viewer.get("/console/contests").content.decode()
    running = viewer.get("/console/contests", status="running").content.decode()
    assert "March week" in running  # March is over, but it was never finalized: still running
    assert "March week" not in viewer.get("/console/contests", status="ended").content.decode()


def test_the_time_of_the_standings_is_shown_in_the_tenants_time_zone(
    world: World, acme: ApiClient, people: dict[str, int]
) -> None:
    admin = console_client(world.acme, "admin")
    assert admin.submit("/console/contests/new", form()).status_code == 303
    page = admin.get(f"/console/contests/{newest(acme)['id']}").content.decode()
    match = re.search(r'Measured at <time datetime="([^"]+)">([^<]+)</time> \(Europe/Berlin\)', page)
    assert match, page
    instant = datetime.fromisoformat(match.group(1))
    assert match.group(2) == instant.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M")
    assert instant.utcoffset() is not None


def test_a_teams_contest_shows_its_teams(world: World, acme: ApiClient, people: dict[str, int]) -> None:
    admin = console_client(world.acme, "admin")
    assert admin.submit("/console/contests/new", form(kind="teams", aggregate="sum")).status_code == 303
    contest = newest(acme)["id"]
    page = admin.get(f"/console/contests/{contest}", by="team").content.decode()
    rows = re.findall(r'<td class="num">(\d+)</td>\s*<td>(\w+)</td>\s*<td class="num">([^<]+)</td>', page)
    assert rows == [("1", "North", "4"), ("2", "South", "2")]
    assert 'id="standings-by"' in page


def test_an_error_shows_next_to_its_field_with_the_values_kept(world: World, people: dict[str, int]) -> None:
    manager = console_client(world.acme, "manager")
    cases = [
        (form(kind="race"), "f-target", "target"),
        (form(kind="teams"), "f-aggregate", "aggregate"),
        (form(who="reps", among="ann, nobody"), "f-among", "nobody"),
        (form(metric="events.no_such_type"), "f-metric", "no_such_type"),
        (form(name=""), "f-name", "name"),
    ]
    for fields, field_id, said in cases:
        answer = manager.submit("/console/contests/new", fields)
        assert answer.status_code == 400, fields
        page = answer.content.decode()
        assert said.lower() in field_error(page, field_id).lower() or said == "name", (field_id, page)
    bad_prize = manager.submit("/console/contests/new", form(**{"prize-0-rank": "zero"}))
    assert bad_prize.status_code == 400 and 'id="e-prizes"' in bad_prize.content.decode()
    with in_tenant("acme"):
        assert not Contest.objects.exists()


def test_a_viewer_reads_but_cannot_create_or_cancel(
    world: World, acme: ApiClient, people: dict[str, int]
) -> None:
    assert console_client(world.acme, "admin").submit("/console/contests/new", form()).status_code == 303
    contest = newest(acme)["id"]
    viewer = console_client(world.acme, "viewer")
    assert "New contest" not in viewer.get("/console/contests").content.decode()
    assert "Cancel contest" not in viewer.get(f"/console/contests/{contest}").content.decode()
    assert viewer.get("/console/contests/new").status_code == 403
    token = viewer.csrf_token("/console/contests")
    for target in ("/console/contests/new", f"/console/contests/{contest}/cancel"):
        refused = viewer.client.post(
            target, {**form(), "csrfmiddlewaretoken": token}, HTTP_HOST=world.acme.host
        )
        assert refused.status_code == 403 and "Not for your role" in refused.content.decode()
    assert acme.get(f"/api/v1/contests/{contest}").json()["status"] == "running"


def test_a_manager_cancels_a_contest_once(world: World, acme: ApiClient, people: dict[str, int]) -> None:
    manager = console_client(world.acme, "manager")
    assert manager.submit("/console/contests/new", form()).status_code == 303
    contest = newest(acme)["id"]
    assert "Cancel contest" in manager.get(f"/console/contests/{contest}").content.decode()
    answer = manager.submit(
        f"/console/contests/{contest}/cancel", {}, form_page=f"/console/contests/{contest}"
    )
    assert answer.status_code == 303 and answer["Location"] == f"/console/contests/{contest}?done=cancelled"
    assert acme.get(f"/api/v1/contests/{contest}").json()["status"] == "cancelled"
    page = manager.get(f"/console/contests/{contest}", done="cancelled").content.decode()
    assert "Contest cancelled." in page and "Cancel contest" not in page


def test_a_post_without_the_csrf_token_is_refused(
    world: World, acme: ApiClient, people: dict[str, int]
) -> None:
    answer = console_client(world.acme, "admin").client.post(
        "/console/contests/new", form(), HTTP_HOST=world.acme.host
    )
    assert answer.status_code == 403
    assert acme.get("/api/v1/contests").json()["count"] == 0


def test_another_tenants_contest_is_not_found(world: World, people: dict[str, int]) -> None:
    globex = ApiClient(world.globex.host, world.globex.admin)
    theirs = globex.post("/api/v1/contests", {
        "name": "Globex only", "metric": "xp", "kind": "leaderboard", "start_date": "2026-03-02",
        "end_date": "2026-03-08", "participants": {"all": True},
    }).json()["id"]  # fmt: skip
    admin = console_client(world.acme, "admin")
    for path in (f"/console/contests/{theirs}", f"/console/contests/{theirs + 1000}"):
        answer = admin.get(path)
        assert answer.status_code == 404 and answer["Content-Type"].startswith("text/html")
    assert "Globex only" not in admin.get("/console/contests").content.decode()
    token = admin.csrf_token("/console/contests")
    refused = admin.client.post(
        f"/console/contests/{theirs}/cancel", {"csrfmiddlewaretoken": token}, HTTP_HOST=world.acme.host
    )
    assert refused.status_code == 404
    assert globex.get(f"/api/v1/contests/{theirs}").json()["status"] == "running"
