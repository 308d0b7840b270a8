"""The leaderboards page (``/console/leaderboards``): the boards of
``GET /api/v1/leaderboards/{metric}``, the same rows (docs/console.md#leaderboards).

The people (acme): North: ann, bob, ivy (inactive: never ranked); South: cat, dan; eve has
no team. D = Wednesday 2026-03-11 (its ISO week: 9 to 15 March), scored.

* SSI on D: ann 70.00, bob 70.00, cat 55.555 (shows as 55.56), dan 10.00; eve not scored.
  Brand points: ann 10, bob 20, cat 5, dan 5.
* XP: ann 20 on the 9th and 30 on D; bob 50 on the 10th; cat 30 on D; eve 10 on the 12th;
  ann 100 more on 1 March (the month, not the week).
  Month: ann 150, bob 50, cat 30, eve 10, dan 0.
* Events ``post_published``: cat 3 on D, dan 1 on D.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.db.models import F

from scoring.models import Rep
from tests.factories.gamification import XpDailyFactory
from tests.factories.scoring import (
    ActivityDailyFactory,
    RepFactory,
    ScoredDayFactory,
    ScoreSnapshotFactory,
    TeamFactory,
)
from tests.support.console import ConsoleClient, console_client, member_signed_in
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"  # what a cell without a value shows
D = date(2026, 3, 11)
ROW = re.compile(
    r'<tr><td class="num">(\d+)</td><th scope="row"><a href="/console/reps/(\d+)">([^<]*)</a></th>'
    r'<td>([^<]*)</td><td class="num">([^<]*)</td><td class="num">(\d+)%</td></tr>'
)


def xp(rep: Rep, day: date, amount: int) -> None:
    XpDailyFactory.create(rep=rep, day=day, xp=amount)
    Rep.objects.filter(pk=rep.pk).update(xp=F("xp") + amount)


@pytest.fixture
def people(acme: ApiClient) -> dict[str, Any]:
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        reps = {
            "ann": RepFactory.create(external_id="ann", name="Ann", team=north),
            "bob": RepFactory.create(external_id="bob", name="Bob", team=north),
            "ivy": RepFactory.create(external_id="ivy", name="Ivy", team=north, active=False),
            "cat": RepFactory.create(external_id="cat", name="Cat", team=south),
            "dan": RepFactory.create(external_id="dan", name="Dan", team=south),
            "eve": RepFactory.create(external_id="eve", name="Eve"),
        }
        for name, ssi, brand in (
            ("ann", 70, 10),
            ("bob", 70, 20),
            ("cat", 55.555, 5),
            ("dan", 10, 5),
            ("ivy", 99, 25),
        ):
            ScoreSnapshotFactory.create(rep=reps[name], day=D, ssi=ssi, brand=brand, team=reps[name].team)
        for name, day, amount in (
            ("ann", 9, 20),
            ("ann", 11, 30),
            ("bob", 10, 50),
            ("cat", 11, 30),
            ("eve", 12, 10),
            ("ann", 1, 100),
        ):
            xp(reps[name], date(2026, 3, day), amount)
        ActivityDailyFactory.create(rep=reps["cat"], day=D, type="post_published", n=3)
        ActivityDailyFactory.create(rep=reps["dan"], day=D, type="post_published", n=1)
        ScoredDayFactory.create(day=D)
    return {"north": north.pk, "south": south.pk, **{k: v.pk for k, v in reps.items()}}


def rows(answer: Any) -> list[tuple[int, str, str, str, int]]:
    """(rank, rep's name, team, value, top percent) of each row of the page."""
    assert answer.status_code == 200, answer.content[:2000]
    return [(int(r[0]), r[2], r[3], r[4], int(r[5])) for r in ROW.findall(answer.content.decode())]


def test_the_ssi_board_shares_ranks_and_shows_two_decimals(world: World, people: dict[str, Any]) -> None:
    page = console_client(world.acme, "viewer").get("/console/leaderboards")
    assert rows(page) == [
        (1, "Ann", "North", "70.00", 25),
        (1, "Bob", "North", "70.00", 25),
        (3, "Cat", "South", "55.56", 75),
        (4, "Dan", "South", "10.00", 100),
    ]
    html = page.content.decode()
    assert f'<a href="/console/reps/{people["ann"]}">Ann</a>' in html
    assert "On 2026-03-11 · 4 reps ranked." in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"metric": "pillar.brand"}, [(1, "Bob", "North", "20.00", 25), (2, "Ann", "North", "10.00", 50),
                                      (3, "Cat", "South", "5.00", 75), (3, "Dan", "South", "5.00", 75)]),
        ({"metric": "xp", "period": "week", "date": "2026-03-11"},
         [(1, "Ann", "North", "50", 20), (1, "Bob", "North", "50", 20), (3, "Cat", "South", "30", 60),
          (4, "Eve", DASH, "10", 80), (5, "Dan", "South", "0", 100)]),
        ({"metric": "xp", "period": "month"},
         [(1, "Ann", "North", "150", 20), (2, "Bob", "North", "50", 40), (3, "Cat", "South", "30", 60),
          (4, "Eve", DASH, "10", 80), (5, "Dan", "South", "0", 100)]),
        ({"metric": "xp", "period": "day", "team": "north"},
         [(1, "Ann", "North", "30", 50), (2, "Bob", "North", "0", 100)]),
        ({"metric": "events.post_published", "period": "all", "team": "south"},
         [(1, "Cat", "South", "3", 50), (2, "Dan", "South", "1", 100)]),
    ],
)  # fmt: skip
def test_every_metric_period_and_team_ranks_as_the_api(
    acme: ApiClient, world: World, people: dict[str, Any], query: dict[str, str], expected: list[Any]
) -> None:
    if "team" in query:
        query = {**query, "team": str(people[query["team"]])}
    page = rows(console_client(world.acme, "viewer").get("/console/leaderboards", **query))
    assert page == expected
    metric = query.pop("metric")
    api = acme.get(f"/api/v1/leaderboards/{metric}", query).json()["results"]
    decimals = metric.startswith(("ssi", "pillar."))
    assert [(r[0], r[3], r[4]) for r in page] == [
        (a["rank"], f"{a['value']:.2f}" if decimals else str(a["value"]), a["top_percent"]) for a in api
    ]


def test_the_form_offers_every_metric_period_and_team(world: World, people: dict[str, Any]) -> None:
    html = (
        console_client(world.acme, "viewer")
        .get("/console/leaderboards", metric="xp", period="week")
        .content.decode()
    )
    for value in ("ssi", "pillar.brand", "pillar.find", "pillar.engage", "pillar.relationships", "xp",
                  "events.post_published"):  # fmt: skip
        assert f'<option value="{value}"' in html
    assert '<option value="xp" selected>XP</option>' in html
    assert '<option value="week" selected>' in html
    for label in ("Metric", "Period", "Team", "Day"):
        assert re.search(rf'<label for="\w+">{label}</label>', html)
    assert f'<option value="{people["north"]}">North</option>' in html
    assert '<button type="submit">Show</button>' in html


def test_fifty_rows_a_page_with_previous_and_next(
    world: World, people: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with in_tenant("acme"):
        for i in range(50):
            xp(RepFactory.create(external_id=f"z{i:02d}", name=f"Z {i:02d}"), D, 100 + i)
    client = console_client(world.acme, "viewer")
    client.get("/console/leaderboards")
    with django_assert_max_num_queries(14):
        first = client.get("/console/leaderboards", metric="xp", period="day")
    first_rows = rows(first)
    assert len(first_rows) == 50 and first_rows[0] == (1, "Z 49", DASH, "149", 2)
    html = first.content.decode()
    assert '<a href="?metric=xp&amp;period=day&amp;page=2" rel="next">Next</a>' in html
    assert "Previous" not in html and "Page 1 of 2" in html
    second = client.get("/console/leaderboards", metric="xp", period="day", page="2")
    # 55 reps ranked: ann 30, cat 30 (ranks 51), then bob, dan, eve with 0 (ranks 53).
    assert rows(second) == [
        (51, "Ann", "North", "30", 93),
        (51, "Cat", "South", "30", 93),
        (53, "Bob", "North", "0", 97),
        (53, "Dan", "South", "0", 97),
        (53, "Eve", DASH, "0", 97),
    ]
    assert '<a href="?metric=xp&amp;period=day&amp;page=1" rel="prev">Previous</a>' in second.content.decode()
    assert client.get("/console/leaderboards", metric="xp", period="day", page="3").status_code == 404
    assert client.get("/console/leaderboards", page="zero").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"metric": "events.nothing_like_it"}, "metric"),
        ({"period": "year"}, "period"),
        ({"team": "999999"}, "team"),
        ({"team": "north"}, "team"),
        ({"date": "2026-02-31"}, "date"),
    ],
)
def test_bad_input_is_a_400_with_the_error_next_to_its_field(
    world: World, people: dict[str, Any], query: dict[str, str], field: str
) -> None:
    answer = console_client(world.acme, "viewer").get("/console/leaderboards", **query)
    assert answer.status_code == 400
    html = answer.content.decode()
    assert f'<p class="field-error" id="{field}-error">' in html
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html) or re.search(
        rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', html
    )


def test_before_any_scored_day_the_ssi_board_says_so(world: World, db: Any) -> None:
    answer = console_client(world.acme, "viewer").get("/console/leaderboards")
    assert answer.status_code == 200
    assert "No scored day yet" in answer.content.decode()


def test_every_role_may_read_the_boards(world: World, people: dict[str, Any]) -> None:
    for role in ("viewer", "manager", "admin"):
        assert len(rows(console_client(world.acme, role).get("/console/leaderboards"))) == 4


def test_a_tenant_sees_only_its_own_reps(world: World, people: dict[str, Any]) -> None:
    globex = console_client(world.globex, "viewer")
    assert "Ann" not in globex.get("/console/leaderboards").content.decode()
    # acme's team id on globex's board: no such team there.
    assert globex.get("/console/leaderboards", metric="xp", team=str(people["north"])).status_code == 400
    session = member_signed_in(world.globex.slug, "viewer")
    elsewhere = ConsoleClient(world.acme.host, session).get("/console/leaderboards")
    assert elsewhere.status_code == 302
    assert elsewhere["Location"] == "/console/login?next=/console/leaderboards"
