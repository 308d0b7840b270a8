"""``GET /api/v1/leaderboards/{metric}`` (docs/gamification.md#leaderboards), on hand-built data.

The rows behind the boards are written straight into acme's schema: XP in the daily
ledger (``XpDaily``), events in the daily rollup (``ActivityDaily``), scores as snapshots
(``ScoreSnapshot`` + ``ScoredDay``). The people (acme):

* North: ann, bob, and ivy (inactive: never ranked)
* South: cat, dan
* eve: no team

The calendar (March 2026): Mondays are the 2nd, 9th and 16th; D = Wednesday 2026-03-11.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from core.clock import local_today
from scoring.models import Rep
from tests.factories.gamification import XpDailyFactory
from tests.factories.scoring import (
    ActivityDailyFactory,
    RepFactory,
    ScoredDayFactory,
    ScoreSnapshotFactory,
    TeamFactory,
)
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import World, in_tenant

D = date(2026, 3, 11)


def mar(day: int) -> date:
    return date(2026, 3, day)


def xp(rep: Rep, day: date, amount: int) -> None:
    """XP earned on a day: the ledger and the rep's total, as ingestion writes them."""
    XpDailyFactory.create(rep=rep, day=day, xp=amount)
    Rep.objects.filter(pk=rep.pk).update(xp=F("xp") + amount)


def snapshot(rep: Rep, day: date, ssi: float, brand: float = 0.0) -> None:
    """The rep's scores on a day, in its team, as a recompute writes them."""
    ScoreSnapshotFactory.create(rep=rep, day=day, ssi=ssi, brand=brand, team=rep.team)


def board(client: ApiClient, metric: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/leaderboards/{metric}", params)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def ranking(body: dict[str, Any]) -> list[tuple[int, str, Any, int]]:
    """(rank, rep, value, top_percent) of each row."""
    return [(r["rank"], r["rep"], r["value"], r["top_percent"]) for r in body["results"]]


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
    return {**reps, "north": north.pk, "south": south.pk}


@pytest.fixture
def week_xp(people: dict[str, Any]) -> dict[str, Any]:
    """XP in D's week: ann 50, bob 50, cat 30, eve 10, dan nothing, ivy (inactive) 999."""
    with in_tenant("acme"):
        xp(people["ann"], mar(9), 20)
        xp(people["ann"], mar(11), 30)
        xp(people["bob"], mar(10), 50)
        xp(people["cat"], mar(11), 30)
        xp(people["eve"], mar(12), 10)
        xp(people["ivy"], mar(11), 999)
        ScoredDayFactory.create(day=D)
    return people


def rep_token(client: ApiClient, rep: str) -> str:
    token: str = client.post("/api/v1/rep-tokens", {"rep": rep}).json()["token"]
    return token


# --- ranking -------------------------------------------------------------------------------------------


def test_equal_values_share_a_rank_and_the_next_rank_skips(acme: ApiClient, week_xp: dict[str, Any]) -> None:
    body = board(acme, "xp", period="week", date=D.isoformat())
    # n = 5 active reps: top_percent = ceil(100 * rank / 5).
    assert ranking(body) == [
        (1, "ann", 50, 20),
        (1, "bob", 50, 20),
        (3, "cat", 30, 60),
        (4, "eve", 10, 80),
        (5, "dan", 0, 100),
    ]
    assert [r["name"] for r in body["results"]] == ["Ann", "Bob", "Cat", "Eve", "Dan"]
    assert body["count"] == 5
    assert {k: body[k] for k in ("metric", "period", "date", "start", "end", "team", "me")} == {
        "metric": "xp",
        "period": "week",
        "date": "2026-03-11",
        "start": "2026-03-09",
        "end": "2026-03-15",
        "team": None,
        "me": None,
    }


def test_top_percent_rounds_up(acme: ApiClient, people: dict[str, Any]) -> None:
    with in_tenant("acme"):
        for i, name in enumerate(["ann", "bob", "cat"]):
            xp(people[name], D, 30 - 10 * i)
        Rep.objects.filter(external_id__in=["dan", "eve"]).update(active=False)
        ScoredDayFactory.create(day=D)
    # n = 3: ceil(100/3) = 34, ceil(200/3) = 67.
    assert ranking(board(acme, "xp", period="day")) == [
        (1, "ann", 30, 34),
        (2, "bob", 20, 67),
        (3, "cat", 10, 100),
    ]
    # Within team North (ann, bob; ivy is inactive): n = 2.
    team = board(acme, "xp", period="day", team=people["north"])
    assert ranking(team) == [(1, "ann", 30, 50), (2, "bob", 20, 100)]


def test_the_default_date_is_the_latest_scored_day(acme: ApiClient, week_xp: dict[str, Any]) -> None:
    with in_tenant("acme"):
        ScoredDayFactory.create(day=mar(2))
    body = board(acme, "xp", period="day")
    assert body["date"] == D.isoformat()
    assert ranking(body)[:2] == [(1, "ann", 30, 20), (1, "cat", 30, 20)]


def test_before_any_scored_day_xp_is_ranked_as_of_local_today(
    acme: ApiClient, people: dict[str, Any]
) -> None:
    today = local_today("Europe/Berlin")
    with in_tenant("acme"):
        xp(people["bob"], today, 5)
    body = board(acme, "xp", period="day")
    assert body["date"] == today.isoformat()
    assert ranking(body)[0] == (1, "bob", 5, 20)


def test_the_default_period_is_all(acme: ApiClient, week_xp: dict[str, Any]) -> None:
    with in_tenant("acme"):
        xp(week_xp["dan"], mar(1), 70)
    body = board(acme, "xp")
    assert body["period"] == "all"
    assert (body["start"], body["end"]) == (None, D.isoformat())
    # eve's 10 XP are on the 12th, after D: not counted.
    assert ranking(body) == [
        (1, "dan", 70, 20),
        (2, "ann", 50, 40),
        (2, "bob", 50, 40),
        (4, "cat", 30, 80),
        (5, "eve", 0, 100),
    ]


def test_all_time_xp_up_to_today_is_the_cards_xp(acme: ApiClient, people: dict[str, Any]) -> None:
    today = local_today("Europe/Berlin")
    moment = datetime.combine(today, time(0, 0, 1), tzinfo=ZoneInfo("Europe/Berlin")).isoformat()
    events_in = [
        {"id": f"e-{i}", "rep": rep, "type": type, "occurred_at": moment}
        for i, (rep, type) in enumerate(
            [("ann", "article_published"), ("ann", "post_published"), ("bob", "post_published")]
        )
    ]
    assert acme.post("/api/v1/activities", {"events": events_in}).json()["accepted"] == 3
    body = board(acme, "xp", period="all", date=today.isoformat())
    assert ranking(body)[:2] == [(1, "ann", 35, 20), (2, "bob", 10, 40)]
    for row in body["results"]:
        assert row["value"] == acme.get(f"/api/v1/reps/{row['rep']}").json()["xp"]
    # Until yesterday: none of it.
    yesterday = board(acme, "xp", period="all", date=(today - timedelta(days=1)).isoformat())
    assert {r["value"] for r in yesterday["results"]} == {0}


# --- periods -------------------------------------------------------------------------------------------


@pytest.fixture
def calendar_xp(people: dict[str, Any]) -> None:
    """ann's XP on days around the week and month boundaries (one power of two per day)."""
    with in_tenant("acme"):
        for day, amount in [
            (date(2026, 2, 28), 1),  # Saturday, February
            (mar(1), 2),  # Sunday: the last day of the week of Mon 23 Feb
            (mar(2), 4),  # Monday: a new week
            (mar(8), 8),  # Sunday
            (mar(9), 16),  # Monday
            (mar(31), 32),  # Tuesday, the last day of March
            (date(2026, 4, 1), 64),
        ]:
            xp(people["ann"], day, amount)


@pytest.mark.parametrize(
    ("period", "day", "value", "start", "end"),
    [
        ("day", "2026-03-08", 8, "2026-03-08", "2026-03-08"),
        ("day", "2026-03-07", 0, "2026-03-07", "2026-03-07"),
        ("week", "2026-03-08", 4 + 8, "2026-03-02", "2026-03-08"),  # Sunday closes Monday's week
        ("week", "2026-03-02", 4 + 8, "2026-03-02", "2026-03-08"),
        ("week", "2026-03-09", 16, "2026-03-09", "2026-03-15"),  # Monday starts the next
        ("week", "2026-03-01", 1 + 2, "2026-02-23", "2026-03-01"),  # a week across two months
        ("month", "2026-03-15", 2 + 4 + 8 + 16 + 32, "2026-03-01", "2026-03-31"),
        ("month", "2026-02-28", 1, "2026-02-01", "2026-02-28"),
        ("month", "2026-04-30", 64, "2026-04-01", "2026-04-30"),
        ("all", "2026-03-08", 1 + 2 + 4 + 8, None, "2026-03-08"),
        ("all", "2026-03-31", 63, None, "2026-03-31"),
        ("all", "2026-04-01", 127, None, "2026-04-01"),
    ],
)
def test_periods_count_xp_within_their_bounds(
    acme: ApiClient, calendar_xp: None, period: str, day: str, value: int, start: str | None, end: str
) -> None:
    body = board(acme, "xp", period=period, date=day)
    assert (body["start"], body["end"]) == (start, end)
    ann = next(r for r in body["results"] if r["rep"] == "ann")
    assert ann["value"] == value


# --- metrics -------------------------------------------------------------------------------------------


def test_events_of_a_type_are_counted_within_the_period(acme: ApiClient, people: dict[str, Any]) -> None:
    with in_tenant("acme"):
        ActivityDailyFactory.create(rep=people["ann"], type="post_published", day=mar(10), n=2)
        ActivityDailyFactory.create(rep=people["ann"], type="post_published", day=mar(11), n=1)
        ActivityDailyFactory.create(rep=people["bob"], type="post_published", day=mar(11), n=1)
        # The week before:
        ActivityDailyFactory.create(rep=people["bob"], type="post_published", day=mar(2), n=5)
        ActivityDailyFactory.create(rep=people["cat"], type="message_sent", day=mar(11), n=7)  # another type
        ActivityDailyFactory.create(rep=people["ivy"], type="post_published", day=mar(11), n=9)  # inactive
    week = board(acme, "events.post_published", period="week", date=D.isoformat())
    assert ranking(week) == [
        (1, "ann", 3, 20),
        (2, "bob", 1, 40),
        (3, "cat", 0, 60),  # equal values share rank 3: ceil(100 * 3 / 5)
        (3, "dan", 0, 60),
        (3, "eve", 0, 60),
    ]
    alltime = board(acme, "events.post_published", period="all", date=D.isoformat())
    assert ranking(alltime)[:2] == [(1, "bob", 6, 20), (2, "ann", 3, 40)]
    assert ranking(board(acme, "events.message_sent", period="day", date=D.isoformat()))[0] == (
        1,
        "cat",
        7,
        20,
    )


@pytest.fixture
def scores(people: dict[str, Any]) -> None:
    """Snapshots on D (the latest scored day) and on D-1; dan has none on D; ivy is inactive."""
    with in_tenant("acme"):
        snapshot(people["ann"], D, 80.004, brand=10.0)
        snapshot(people["bob"], D, 79.996, brand=20.0)  # 80.00 once rounded: a tie with ann
        snapshot(people["cat"], D, 2.675, brand=20.0)  # shows (and ranks) as 2.68
        snapshot(people["eve"], D, 2.674, brand=5.0)
        snapshot(people["ivy"], D, 99.0, brand=25.0)
        snapshot(people["dan"], mar(10), 90.0, brand=25.0)
        ScoredDayFactory.create(day=mar(10))
        ScoredDayFactory.create(day=D)


def test_ssi_ranks_the_days_snapshots_rounded_to_two_decimals(acme: ApiClient, scores: None) -> None:
    body = board(acme, "ssi")
    assert body["date"] == D.isoformat()
    assert (body["start"], body["end"]) == (D.isoformat(), D.isoformat())
    assert ranking(body) == [
        (1, "ann", 80.0, 25),
        (1, "bob", 80.0, 25),
        (3, "cat", 2.68, 75),
        (4, "eve", 2.67, 100),
    ]
    # The same rounding as the SSI endpoint.
    assert acme.get("/api/v1/reps/cat/ssi").json()["ssi"] == 2.68


def test_ssi_ignores_the_period(acme: ApiClient, scores: None) -> None:
    expected = ranking(board(acme, "ssi"))
    for period in ("day", "week", "month", "all"):
        assert ranking(board(acme, "ssi", period=period)) == expected


def test_ssi_on_another_date_lists_that_days_snapshots(acme: ApiClient, scores: None) -> None:
    assert ranking(board(acme, "ssi", date="2026-03-10")) == [(1, "dan", 90.0, 100)]
    assert board(acme, "ssi", date="2026-03-01")["results"] == []


def test_a_pillar_ranks_its_own_points(acme: ApiClient, scores: None) -> None:
    assert ranking(board(acme, "pillar.brand")) == [
        (1, "bob", 20.0, 25),
        (1, "cat", 20.0, 25),
        (3, "ann", 10.0, 75),
        (4, "eve", 5.0, 100),
    ]
    assert board(acme, "pillar.find")["count"] == 4


def test_ssi_before_any_scored_day_is_a_404(acme: ApiClient, people: dict[str, Any]) -> None:
    assert_error(acme.get("/api/v1/leaderboards/ssi"), 404, code="no_snapshot")


@pytest.mark.parametrize(
    "metric", ["nope", "events.nope", "events.", "pillar.nope", "pillar", "sum.post_published", "XP"]
)
def test_an_unknown_metric_is_a_404(acme: ApiClient, people: dict[str, Any], metric: str) -> None:
    assert_error(acme.get(f"/api/v1/leaderboards/{metric}"), 404, code="unknown_metric")


# --- team filter, parameters, pages --------------------------------------------------------------------


def test_the_team_filter_ranks_the_teams_active_members(acme: ApiClient, week_xp: dict[str, Any]) -> None:
    body = board(acme, "xp", period="week", date=D.isoformat(), team=week_xp["south"])
    assert ranking(body) == [(1, "cat", 30, 50), (2, "dan", 0, 100)]
    assert body["team"] == week_xp["south"]
    assert body["count"] == 2
    north = board(acme, "xp", period="week", date=D.isoformat(), team=week_xp["north"])
    assert ranking(north) == [(1, "ann", 50, 50), (1, "bob", 50, 50)]


def test_the_team_filter_applies_to_ssi(acme: ApiClient, scores: None, people: dict[str, Any]) -> None:
    assert ranking(board(acme, "ssi", team=people["south"])) == [(1, "cat", 2.68, 100)]


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"period": "year"}, "period"),
        ({"date": "2026-13-01"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"team": "abc"}, "team"),
        ({"team": "-1"}, "team"),
        ({"team": "99999999999999999999"}, "team"),
        ({"team": "999999"}, "team"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(
    acme: ApiClient, week_xp: dict[str, Any], params: dict[str, str], attr: str
) -> None:
    assert_error(acme.get("/api/v1/leaderboards/xp", params), 400, attr=attr)


def test_the_board_is_paginated_in_rank_order(acme: ApiClient, week_xp: dict[str, Any]) -> None:
    params = {"period": "week", "date": D.isoformat(), "page_size": 2}
    first = board(acme, "xp", **params)
    assert [r["rep"] for r in first["results"]] == ["ann", "bob"]
    assert first["previous"] is None and first["next"] is not None
    assert first["count"] == 5
    last = board(acme, "xp", **params, page=3)
    assert ranking(last) == [(5, "dan", 0, 100)]
    assert last["next"] is None
    assert_error(acme.get("/api/v1/leaderboards/xp", {**params, "page": 4}), 404)


def test_page_size_is_capped_at_500(acme: ApiClient, people: dict[str, Any]) -> None:
    with in_tenant("acme"):
        Rep.objects.bulk_create([RepFactory.build(external_id=f"bulk-{i:03}") for i in range(500)])
    body = board(acme, "xp", page_size=1000)
    assert body["count"] == 505
    assert len(body["results"]) == 500


def test_the_ranking_is_one_query_whatever_the_number_of_reps(
    acme: ApiClient, week_xp: dict[str, Any]
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            board(acme, "xp", period="week")
        # Not the connection's SET search_path: whether one is due depends on what ran before.
        return len([q for q in captured.captured_queries if not q["sql"].startswith("SET search_path")])

    queries()  # caches warmed (the tenant's config)
    few = queries()
    with in_tenant("acme"):
        reps = Rep.objects.bulk_create([RepFactory.build(external_id=f"bulk-{i:03}") for i in range(50)])
        for i, rep in enumerate(reps):
            xp(rep, D, i)
    assert queries() == few


# --- rep tokens: me and anonymity ----------------------------------------------------------------------


def test_a_rep_token_gets_its_own_row_as_me_even_off_the_page(
    world: World, acme: ApiClient, week_xp: dict[str, Any]
) -> None:
    client = ApiClient(world.acme.host, rep_token(acme, "dan"))
    body = board(client, "xp", period="week", date=D.isoformat(), page_size=2)
    assert [r["rep"] for r in body["results"]] == ["ann", "bob"]
    assert body["me"] == {"rank": 5, "rep": "dan", "name": "Dan", "value": 0, "top_percent": 100}
    # Within a team, me is ranked within the team.
    team = board(client, "xp", period="week", date=D.isoformat(), team=week_xp["south"])
    assert team["me"] == {"rank": 2, "rep": "dan", "name": "Dan", "value": 0, "top_percent": 100}


def test_me_is_null_when_the_rep_is_not_on_the_board(
    world: World, acme: ApiClient, week_xp: dict[str, Any]
) -> None:
    dan = ApiClient(world.acme.host, rep_token(acme, "dan"))
    assert board(dan, "xp", team=week_xp["north"])["me"] is None
    ivy = ApiClient(world.acme.host, rep_token(acme, "ivy"))  # inactive: not ranked
    assert board(ivy, "xp")["me"] is None


def test_keys_get_no_me(world: World, week_xp: dict[str, Any]) -> None:
    for key in (world.acme.admin, world.acme.integration, world.acme.read):
        assert board(ApiClient(world.acme.host, key), "xp")["me"] is None


def test_a_rep_token_sees_names_when_the_board_is_not_anonymous(
    world: World, acme: ApiClient, week_xp: dict[str, Any]
) -> None:
    client = ApiClient(world.acme.host, rep_token(acme, "cat"))
    body = board(client, "xp", period="week", date=D.isoformat())
    assert [(r["rep"], r["name"]) for r in body["results"]] == [
        ("ann", "Ann"),
        ("bob", "Bob"),
        ("cat", "Cat"),
        ("eve", "Eve"),
        ("dan", "Dan"),
    ]


def test_an_anonymous_board_hides_other_reps_from_rep_tokens_only(
    world: World, acme: ApiClient, week_xp: dict[str, Any]
) -> None:
    assert acme.patch("/api/v1/settings", {"leaderboard_names": "anonymous"}).status_code == 200
    client = ApiClient(world.acme.host, rep_token(acme, "cat"))
    body = board(client, "xp", period="week", date=D.isoformat())
    assert [(r["rank"], r["rep"], r["name"], r["value"]) for r in body["results"]] == [
        (1, None, None, 50),
        (1, None, None, 50),
        (3, "cat", "Cat", 30),
        (4, None, None, 10),
        (5, None, None, 0),
    ]
    assert body["me"] == {"rank": 3, "rep": "cat", "name": "Cat", "value": 30, "top_percent": 60}
    for key in (world.acme.admin, world.acme.read):
        keyed = board(ApiClient(world.acme.host, key), "xp", period="week", date=D.isoformat())
        assert [r["name"] for r in keyed["results"]] == ["Ann", "Bob", "Cat", "Eve", "Dan"]


def test_a_rep_token_may_only_read_a_board(world: World, acme: ApiClient, week_xp: dict[str, Any]) -> None:
    client = ApiClient(world.acme.host, rep_token(acme, "cat"))
    assert_error(client.post("/api/v1/leaderboards/xp", {}), 403, code="permission_denied")


# --- tenants -------------------------------------------------------------------------------------------


def test_it_denies_cross_tenant_access_and_mixes_no_tenants(
    world: World, acme: ApiClient, globex: ApiClient, week_xp: dict[str, Any]
) -> None:
    with in_tenant("globex"):
        zed = RepFactory.create(external_id="zed", name="Zed")
        xp(zed, D, 500)
        ScoredDayFactory.create(day=mar(12))
    acme_board = board(acme, "xp", period="week", date=D.isoformat())
    assert [r["rep"] for r in acme_board["results"]] == ["ann", "bob", "cat", "eve", "dan"]
    globex_board = board(globex, "xp", period="week")
    assert globex_board["date"] == "2026-03-12"  # globex's own latest scored day
    assert ranking(globex_board) == [(1, "zed", 500, 100)]
    token = rep_token(acme, "ann")
    for key in (world.acme.admin, world.acme.read, token):
        intruder = ApiClient(world.globex.host, key)
        assert_error(intruder.get("/api/v1/leaderboards/xp"), 401, code="invalid_token")
        via_header = ApiClient(PLATFORM_HOST, key, headers={"X-Tenant": "globex"})
        assert_error(via_header.get("/api/v1/leaderboards/xp"), 401, code="invalid_token")


def test_no_token_is_a_401(world: World, db: None) -> None:
    assert_error(ApiClient(world.acme.host).get("/api/v1/leaderboards/xp"), 401, code="not_authenticated")


def test_leaderboards_are_in_the_schema(world: World, db: None) -> None:
    doc = ApiClient(PLATFORM_HOST).get("/api/v1/schema/", {"format": "json"}).json()
    operation = doc["paths"]["/api/v1/leaderboards/{metric}"]["get"]
    assert operation["tags"] == ["leaderboards"]
    assert {"period", "date", "team", "page", "page_size", "metric"} <= {
        p["name"] for p in operation["parameters"]
    }
    assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])
