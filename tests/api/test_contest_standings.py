"""Contest standings, computed by hand (docs/contests.md#values, #standings).

acme (Europe/Berlin, UTC+1 in March). Contests run 2026-03-02 to 2026-03-08 (past: live
standings count the whole period until the contest is finalized). Team North: ann, bob,
cat (inactive: never a participant); team South: dan, eve; team Empty: nobody.
XP per event (the catalogue): post_published 10, post_commented 3.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from scoring.models import Rep, ScoredDay
from tests.factories.scoring import RepFactory, ScoredDayFactory, ScoreSnapshotFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

CONTESTS = "/api/v1/contests"


@pytest.fixture
def people(acme: ApiClient) -> dict[str, Any]:
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        empty = TeamFactory.create(name="Empty")
        reps = {
            name: RepFactory.create(external_id=name, name=name.title(), team=north)
            for name in ("ann", "bob")
        }
        reps["cat"] = RepFactory.create(external_id="cat", team=north, active=False)
        for name in ("dan", "eve"):
            reps[name] = RepFactory.create(external_id=name, name=name.title(), team=south)
    return {
        "north": north.pk,
        "south": south.pk,
        "empty": empty.pk,
        "reps": {k: v.pk for k, v in reps.items()},
    }


_seq = iter(range(1, 10_000))


def ev(
    rep: str, day: int, hour: int, minute: int = 0, type: str = "post_published", **extra: Any
) -> dict[str, Any]:
    """An event on 2026-03-<day> at <hour>:<minute> Berlin time (UTC+1)."""
    return {
        "id": f"e{next(_seq)}-{rep}-{day}-{hour}-{minute}",
        "rep": rep,
        "type": type,
        "occurred_at": f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:00+01:00",
        **extra,
    }


def ingest(client: ApiClient, *events: dict[str, Any]) -> None:
    response = client.post("/api/v1/activities", {"events": list(events)})
    assert response.status_code == 200, response.content
    assert response.json()["rejected"] == [], response.content


def create(client: ApiClient, **extra: Any) -> int:
    body = {
        "name": "March week",
        "metric": "events.post_published",
        "kind": "leaderboard",
        "start_date": "2026-03-02",
        "end_date": "2026-03-08",
        "participants": {"all": True},
        **extra,
    }
    response = client.post(CONTESTS, body)
    assert response.status_code == 201, response.content
    contest_id: int = response.json()["id"]
    return contest_id


def standings(client: ApiClient, contest: int, **params: Any) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(f"{CONTESTS}/{contest}/standings?{query}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def table(body: dict[str, Any], *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(row[f] for f in fields) for row in body["results"]]


def test_a_leaderboard_counts_the_periods_events_and_ties_share_a_rank(
    acme: ApiClient, people: dict[str, Any]
) -> None:
    ingest(
        acme,
        ev("ann", 1, 23, 59),  # the day before: not counted
        ev("ann", 2, 0, 0),
        ev("ann", 5, 12),
        ev("ann", 8, 23, 59),  # the last minute of the last day
        ev("bob", 3, 9),
        ev("bob", 3, 10),
        ev("bob", 4, 10),
        ev("dan", 9, 0, 0),  # the day after: not counted
        ev("dan", 6, 8),
        ev("cat", 4, 9),  # inactive: not a participant
        ev("eve", 4, 9, type="post_commented"),  # another type
    )
    body = standings(acme, create(acme))
    assert table(body, "rank", "rep", "value") == [
        (1, "ann", 3.0),
        (1, "bob", 3.0),
        (3, "dan", 1.0),
        (4, "eve", 0.0),
    ]
    assert (body["count"], body["by"], body["start"], body["end"], body["me"]) == (
        4, "rep", "2026-03-02", "2026-03-08", None,
    )  # fmt: skip
    assert "reached_at" not in body["results"][0]


def test_sum_adds_the_values_and_xp_the_xp_of_the_periods_events(
    acme: ApiClient, people: dict[str, Any]
) -> None:
    ingest(
        acme,
        ev("ann", 2, 9, type="follower_gained", value=30),
        ev("ann", 3, 9, type="follower_gained", value=12.5),
        ev("bob", 3, 9, type="follower_gained", value=42.5),
        ev("dan", 1, 9, type="follower_gained", value=100),  # before the period
        ev("ann", 4, 9),  # 10 XP
        ev("ann", 4, 10, type="post_commented"),  # 3 XP
        ev("bob", 7, 10, type="post_commented"),  # 3 XP
    )
    body = standings(acme, create(acme, metric="sum.follower_gained"))
    assert table(body, "rep", "rank", "value") == [
        ("ann", 1, 42.5),
        ("bob", 1, 42.5),
        ("dan", 3, 0.0),
        ("eve", 3, 0.0),
    ]
    body = standings(acme, create(acme, metric="xp"))
    # ann: 10 + 3 + follower_gained 42.5 x 1 XP counted per event: 2 events x 1 = 2 -> 15
    assert table(body, "rep", "rank", "value") == [
        ("ann", 1, 15.0),
        ("bob", 2, 4.0),
        ("dan", 3, 0.0),
        ("eve", 3, 0.0),
    ]


def test_a_race_ranks_by_the_moment_of_the_event_that_reached_the_target(
    acme: ApiClient, people: dict[str, Any]
) -> None:
    ingest(
        acme,
        ev("ann", 2, 9),
        ev("ann", 3, 9),
        ev("ann", 3, 15),  # ann's third: 2026-03-03 15:00 (+01:00)
        ev("ann", 4, 9),
        ev("bob", 2, 8),
        ev("bob", 3, 11),
        ev("bob", 3, 11, 30),  # bob's third: 2026-03-03 11:30: first
        ev("dan", 3, 12),
        ev("dan", 3, 12),
        ev("dan", 3, 15),  # dan's third at the same moment as ann's: they share rank 2
        ev("eve", 5, 9),
        ev("eve", 5, 10),  # 2: not reached
    )
    body = standings(acme, create(acme, kind="race", target=3))
    assert table(body, "rank", "rep", "value", "reached_at") == [
        (1, "bob", 3.0, "2026-03-03T10:30:00Z"),
        (2, "ann", 4.0, "2026-03-03T14:00:00Z"),
        (2, "dan", 3.0, "2026-03-03T14:00:00Z"),
        (4, "eve", 2.0, None),
    ]


def test_a_race_on_sums_is_reached_within_the_day_by_the_running_value(
    acme: ApiClient, people: dict[str, Any]
) -> None:
    ingest(
        acme,
        ev("ann", 2, 9, type="follower_gained", value=4),
        ev("ann", 3, 10, type="follower_gained", value=5),
        ev("ann", 3, 9, type="follower_gained", value=0.5),  # earlier that day: 4.5, then 9.5 at 10:00
        ev("ann", 3, 11, type="follower_gained", value=50),
    )
    body = standings(acme, create(acme, kind="race", target=9.5, metric="sum.follower_gained"))
    assert table(body, "rank", "rep", "value", "reached_at")[0] == (1, "ann", 59.5, "2026-03-03T09:00:00Z")


def test_a_race_on_xp_counts_each_events_xp_in_order(acme: ApiClient, people: dict[str, Any]) -> None:
    ingest(
        acme,
        ev("ann", 3, 9),  # 10 XP
        ev("ann", 3, 10, type="post_commented"),  # 3 XP: 13 >= 12 at 10:00
        ev("bob", 3, 8, type="post_commented"),  # 3
        ev("bob", 4, 8),  # 13 on the 4th
    )
    body = standings(acme, create(acme, kind="race", target=12, metric="xp"))
    assert table(body, "rank", "rep", "value", "reached_at") == [
        (1, "ann", 13.0, "2026-03-03T09:00:00Z"),
        (2, "bob", 13.0, "2026-03-04T07:00:00Z"),
        (3, "dan", 0.0, None),
        (3, "eve", 0.0, None),
    ]


def test_a_teams_contest_ranks_teams_by_the_aggregate_of_their_members(
    acme: ApiClient, people: dict[str, Any]
) -> None:
    ingest(
        acme,
        ev("ann", 2, 9),
        ev("ann", 2, 10),
        ev("ann", 2, 11),
        ev("bob", 3, 9),
        ev("dan", 3, 9),
        ev("dan", 4, 9),
    )
    avg = create(acme, kind="teams", aggregate="avg")
    # North: ann 3, bob 1 (cat inactive) -> avg 2, sum 4; South: dan 2, eve 0 -> avg 1, sum 2; Empty: 0.
    assert table(standings(acme, avg, by="team"), "rank", "team", "name", "value", "members") == [
        (1, people["north"], "North", 2.0, 2),
        (2, people["south"], "South", 1.0, 2),
        (3, people["empty"], "Empty", 0.0, 0),
    ]
    summed = create(
        acme, kind="teams", aggregate="sum", participants={"teams": [people["south"], people["empty"]]}
    )
    assert table(standings(acme, summed, by="team"), "rank", "name", "value") == [
        (1, "South", 2.0),
        (2, "Empty", 0.0),
    ]
    # by=rep (the default): the reps, as a leaderboard.
    assert table(standings(acme, summed), "rank", "rep", "value") == [(1, "dan", 2.0), (2, "eve", 0.0)]
    plain = create(acme)
    assert_error(acme.get(f"{CONTESTS}/{plain}/standings?by=team"), 404, "no_team_standings", "by")
    assert_error(acme.get(f"{CONTESTS}/{plain}/standings?by=nobody"), 400, "invalid_choice", "by")


def snapshots(people: dict[str, Any], rep: str, scores: dict[date, tuple[float, float]]) -> None:
    """``scores``: day -> (ssi, engage); each day marked scored."""
    with in_tenant("acme"):
        for day, (ssi, engage) in scores.items():
            ScoreSnapshotFactory.create(
                rep=Rep.objects.get(pk=people["reps"][rep]), day=day, ssi=ssi, engage=engage
            )
            if not ScoredDay.objects.filter(day=day).exists():
                ScoredDayFactory.create(day=day)


def test_gains_run_from_the_day_before_the_start_to_the_last_scored_day(
    acme: ApiClient, people: dict[str, Any]
) -> None:
    d = lambda n: date(2026, 3, n)  # noqa: E731
    # ann: 40.004 the day before (40.00 as shown), 47.125 (47.13) on the 5th, 45 on the 9th (after).
    snapshots(
        people, "ann", {d(1): (40.004, 10.0), d(3): (43.0, 12.0), d(5): (47.125, 11.5), d(9): (45.0, 30.0)}
    )
    # bob: no snapshot the day before: from 0.
    snapshots(people, "bob", {d(4): (7.0, 2.0)})
    # dan: a snapshot before, none within: gain 0.
    snapshots(people, "dan", {d(1): (50.0, 50.0)})
    body = standings(acme, create(acme, metric="ssi.gain"))
    assert table(body, "rank", "rep", "value") == [
        (1, "ann", 7.13),
        (2, "bob", 7.0),
        (3, "dan", 0.0),
        (3, "eve", 0.0),
    ]
    body = standings(acme, create(acme, metric="pillar.engage.gain"))
    assert table(body, "rank", "rep", "value") == [
        (1, "bob", 2.0),
        (2, "ann", 1.5),
        (3, "dan", 0.0),
        (3, "eve", 0.0),
    ]
    # A race on the gain: reached at the local midnight that ends the scored day.
    body = standings(acme, create(acme, metric="ssi.gain", kind="race", target=3))
    assert table(body, "rank", "rep", "reached_at") == [
        (1, "ann", "2026-03-03T23:00:00Z"),  # 43 - 40 = 3 on the 3rd; midnight at +01:00
        (2, "bob", "2026-03-04T23:00:00Z"),  # 7 on the 4th
        (3, "dan", None),
        (3, "eve", None),
    ]


def test_a_late_event_inside_the_period_counts_while_the_contest_is_not_finalized(
    acme: ApiClient, people: dict[str, Any]
) -> None:
    contest = create(acme)
    ingest(acme, ev("bob", 3, 9))
    assert table(standings(acme, contest), "rep", "value")[0] == ("bob", 1.0)
    ingest(acme, ev("ann", 4, 9), ev("ann", 8, 22))  # arrives late, dated inside the period
    assert table(standings(acme, contest), "rank", "rep", "value")[:2] == [(1, "ann", 2.0), (2, "bob", 1.0)]


def test_a_rep_token_reads_its_own_row_as_me(world: World, acme: ApiClient, people: dict[str, Any]) -> None:
    ingest(acme, ev("ann", 2, 9), ev("dan", 2, 9), ev("dan", 3, 9))
    contest = create(acme, kind="teams", aggregate="sum")
    token = acme.post("/api/v1/rep-tokens", {"rep": "ann"}).json()["token"]
    ann = ApiClient(world.acme.host, token)
    body = standings(ann, contest, page_size=1)
    assert (table(body, "rep"), body["me"]) == (
        [("dan",)],
        {"rank": 2, "rep": "ann", "name": "Ann", "value": 1.0},
    )
    assert body["next"] is not None and body["count"] == 4
    assert standings(ann, contest, by="team")["me"] == {
        "rank": 2, "team": people["north"], "name": "North", "value": 1.0, "members": 2,
    }  # fmt: skip
    others = create(acme, participants={"reps": ["dan", "eve"]})
    assert_error(ann.get(f"{CONTESTS}/{others}/standings"), 404)


def test_it_denies_cross_tenant_access(acme: ApiClient, globex: ApiClient, people: dict[str, Any]) -> None:
    contest = create(acme)
    assert_error(globex.get(f"{CONTESTS}/{contest}/standings"), 404)


def test_daily_caps_bound_the_events_and_xp_a_day_counts_and_the_race_crossing(
    acme: ApiClient, people: dict[str, Any]
) -> None:
    """A cap of 2 posts a day: ann's 4 posts of 2026-03-03 count 2 (+ 1 on the 4th = 3); bob's
    2 + 1 count 3 as well. XP: 10 per counted post. sum.* is not capped. In a race to 3, ann's
    crossing is her post of the 4th (her 3rd and 4th of the 3rd count for nothing), bob's his of
    the 5th: ann first."""
    response = acme.patch("/api/v1/settings", {"daily_caps": {"post_published": 2}})
    assert response.status_code == 200, response.content
    ingest(
        acme,
        *(ev("ann", 3, hour) for hour in (9, 10, 11, 12)),
        ev("ann", 4, 9),
        ev("bob", 3, 9),
        ev("bob", 3, 10),
        ev("bob", 5, 9),
        ev("dan", 3, 9, type="follower_gained", value=5),
        ev("dan", 3, 10, type="follower_gained", value=5),
        ev("dan", 3, 11, type="follower_gained", value=5),
    )
    body = standings(acme, create(acme))
    assert table(body, "rank", "rep", "value")[:2] == [(1, "ann", 3.0), (1, "bob", 3.0)]
    body = standings(acme, create(acme, metric="xp"))
    assert dict(table(body, "rep", "value"))["ann"] == 30.0  # not 50: two posts past the cap
    body = standings(acme, create(acme, metric="sum.follower_gained"))
    assert table(body, "rep", "value")[0] == ("dan", 15.0)
    body = standings(acme, create(acme, kind="race", target=3))
    assert table(body, "rank", "rep", "reached_at")[:2] == [
        (1, "ann", "2026-03-04T08:00:00Z"),
        (2, "bob", "2026-03-05T08:00:00Z"),
    ]
