"""The tenant-wide ``ssi`` board from the ranks a recompute stored (gamification/leaderboards.py).

A real recompute (``scores_compute_day``) scores acme's reps from their daily rollup and
stores each snapshot's ``tenant_rank``; the board then pages the snapshots by that rank
instead of ranking in SQL. Every answer here is compared with the board ranked in SQL (the
path every other board takes, covered by tests/api/test_leaderboards.py), and the stored ranks must
stop serving as soon as they are no longer the board's: a rep deactivated or deleted since.

The reps (acme): twelve, in two teams, with people_search counts chosen so that several
share an SSI (ties share a rank), and one inactive rep (never scored).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gamification.leaderboards import LeaderboardRow, leaderboard_get
from scoring.models import ScoredDay, ScoreSnapshot
from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import (
    ActivityDailyFactory,
    RepFactory,
    ScoredDayFactory,
    ScoreSnapshotFactory,
    TeamFactory,
)
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

D = date(2026, 3, 11)
# people_search events on D per rep: equal counts give equal scores (ties).
SEARCHES = {"r01": 9, "r02": 7, "r03": 7, "r04": 7, "r05": 5, "r06": 4, "r07": 4, "r08": 3, "r09": 2,
            "r10": 1, "r11": 0, "r12": 0}  # fmt: skip


@pytest.fixture
def scored(acme: ApiClient) -> dict[str, Any]:
    """The reps above, D recomputed. Returns the reps by external_id and the team ids."""
    with in_tenant("acme") as tenant:
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        reps = {}
        for i, (external_id, n) in enumerate(SEARCHES.items()):
            team = (north, south)[i % 2]
            rep = RepFactory.create(external_id=external_id, name=external_id.upper(), team=team)
            reps[external_id] = rep
            if n:
                ActivityDailyFactory.create(rep=rep, type="people_search", day=D, n=n)
        idle = RepFactory.create(external_id="r00", team=north, active=False)
        # Would be first if it were active:
        ActivityDailyFactory.create(rep=idle, type="people_search", day=D, n=50)
        scores_compute_day(tenant=tenant, day=D)
        assert ScoredDay.objects.get(day=D).reps == len(SEARCHES)
    return {**reps, "north": north.pk, "south": south.pk}


def get_board(client: ApiClient, **params: Any) -> tuple[dict[str, Any], list[str]]:
    """The answer, and the SQL statements it ran."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/leaderboards/ssi", params)
    assert response.status_code == 200, response.content
    return response.json(), [q["sql"] for q in captured.captured_queries]


def ranked_in_sql(**params: Any) -> list[LeaderboardRow]:
    """The whole board ranked by the SQL path (stored ranks not used)."""
    with in_tenant("acme") as tenant:
        board = leaderboard_get(tenant=tenant, metric="ssi", **params)
        board.stored_count = None
        return board[0 : board.count()]


def as_rows(results: list[dict[str, Any]]) -> list[tuple[int, str, float, int]]:
    return [(r["rank"], r["rep"], r["value"], r["top_percent"]) for r in results]


def expected(rows: list[LeaderboardRow]) -> list[tuple[int, str, float, int]]:
    return [(r.rank, r.external_id, r.value, r.top_percent) for r in rows]


def uses_rank(statements: list[str]) -> bool:
    return any("RANK() OVER" in s for s in statements)


def test_after_a_recompute_the_board_is_paged_from_the_stored_ranks(
    acme: ApiClient, scored: dict[str, Any]
) -> None:
    pages = []
    for page in (1, 2, 3):
        body, statements = get_board(acme, page_size=5, page=page)
        assert not uses_rank(statements)
        assert body["count"] == 12
        pages += body["results"]
    assert as_rows(pages) == expected(ranked_in_sql())
    # Ties share a rank, the next rank skips, in external_id order within a rank.
    assert [(r["rank"], r["rep"]) for r in pages[:5]] == [
        (1, "r01"),
        (2, "r02"),
        (2, "r03"),
        (2, "r04"),
        (5, "r05"),
    ]
    assert [r["rank"] for r in pages[-2:]] == [11, 11]
    assert pages[0] == {"rank": 1, "rep": "r01", "name": "R01", "value": pages[0]["value"], "top_percent": 9}
    with in_tenant("acme"):
        stored = dict(ScoreSnapshot.objects.filter(day=D).values_list("rep__external_id", "tenant_rank"))
    assert {r["rep"]: r["rank"] for r in pages} == stored


def test_the_default_day_and_the_same_date_given_are_the_same_board(
    acme: ApiClient, scored: dict[str, Any]
) -> None:
    default, _ = get_board(acme)
    given, statements = get_board(acme, date=D.isoformat())
    assert not uses_rank(statements)
    assert default == given
    assert (default["date"], default["start"], default["end"], default["period"]) == (
        D.isoformat(),
        D.isoformat(),
        D.isoformat(),
        "all",
    )


def test_a_rep_deactivated_after_the_recompute_leaves_the_board_and_the_ranks_close_up(
    acme: ApiClient, scored: dict[str, Any]
) -> None:
    assert acme.patch("/api/v1/reps/r02", {"active": False}).status_code == 200
    body, statements = get_board(acme, page_size=50)
    assert uses_rank(statements)
    assert body["count"] == 11
    assert "r02" not in [r["rep"] for r in body["results"]]
    assert as_rows(body["results"]) == expected(ranked_in_sql())
    assert [(r["rank"], r["rep"], r["top_percent"]) for r in body["results"][:4]] == [
        (1, "r01", 10),
        (2, "r03", 19),
        (2, "r04", 19),
        (4, "r05", 37),
    ]


def test_a_rep_deleted_after_the_recompute_leaves_the_board_and_the_ranks_close_up(
    acme: ApiClient, scored: dict[str, Any]
) -> None:
    assert acme.delete("/api/v1/reps/r01").status_code == 204
    body, statements = get_board(acme, page_size=50)
    assert uses_rank(statements)
    assert body["count"] == 11
    top = [(r["rank"], r["rep"]) for r in body["results"][:4]]
    assert top == [(1, "r02"), (1, "r03"), (1, "r04"), (4, "r05")]
    assert as_rows(body["results"]) == expected(ranked_in_sql())


def test_a_rep_created_or_reactivated_after_the_recompute_has_no_snapshot_and_is_not_on_the_board(
    acme: ApiClient, scored: dict[str, Any]
) -> None:
    before, _ = get_board(acme, page_size=50)
    assert acme.post("/api/v1/reps", {"external_id": "new"}).status_code == 201
    assert acme.patch("/api/v1/reps/r00", {"active": True}).status_code == 200
    after, statements = get_board(acme, page_size=50)
    assert not uses_rank(statements)
    assert after == before


def test_the_stored_ranks_serve_again_once_the_day_is_recomputed(
    acme: ApiClient, scored: dict[str, Any]
) -> None:
    assert acme.patch("/api/v1/reps/r02", {"active": False}).status_code == 200
    with in_tenant("acme") as tenant:
        scores_compute_day(tenant=tenant, day=D)
    body, statements = get_board(acme, page_size=50)
    assert not uses_rank(statements)
    assert body["count"] == 11
    assert as_rows(body["results"]) == expected(ranked_in_sql())


def test_a_rep_tokens_me_comes_from_the_stored_ranks_and_anonymity_holds(
    world: World, acme: ApiClient, scored: dict[str, Any]
) -> None:
    token = acme.post("/api/v1/rep-tokens", {"rep": "r07"}).json()["token"]
    client = ApiClient(world.acme.host, token)
    body, statements = get_board(client, page_size=2)
    assert not uses_rank(statements)
    r07 = next(r for r in ranked_in_sql() if r.external_id == "r07")
    me = {"rank": r07.rank, "rep": "r07", "name": "R07", "value": r07.value, "top_percent": r07.top_percent}
    assert body["me"] == me
    assert acme.patch("/api/v1/settings", {"leaderboard_names": "anonymous"}).status_code == 200
    body, _ = get_board(client, page_size=50)
    assert body["me"]["rep"] == "r07"
    shown = [(r["rep"], r["name"]) for r in body["results"] if r["rep"] is not None or r["name"] is not None]
    assert shown == [("r07", "R07")]
    assert len(body["results"]) == 12
    # Deactivated: off the board, so no me (the SQL path answers).
    assert acme.patch("/api/v1/reps/r07", {"active": False}).status_code == 200
    body, statements = get_board(client)
    assert uses_rank(statements)
    assert (body["count"], body["me"]) == (11, None)


def test_team_and_pillar_boards_are_still_ranked_in_sql(acme: ApiClient, scored: dict[str, Any]) -> None:
    body, statements = get_board(acme, team=scored["north"], page_size=50)
    assert uses_rank(statements)
    assert as_rows(body["results"]) == expected(ranked_in_sql(team=scored["north"]))
    assert [r["rep"] for r in body["results"]] == ["r01", "r03", "r05", "r07", "r09", "r11"]
    response = acme.get("/api/v1/leaderboards/pillar.find", {"page_size": 50})
    assert response.status_code == 200
    assert response.json()["count"] == 12


def test_snapshots_that_disagree_with_their_scored_day_are_ranked_in_sql(acme: ApiClient) -> None:
    """Snapshots written by hand (not by a recompute), with ranks that are not theirs: the
    board must still be the SQL ranking of their values."""
    with in_tenant("acme"):
        for external_id, ssi in (("x", 10.0), ("y", 30.0), ("z", 20.0)):
            rep = RepFactory.create(external_id=external_id)
            ScoreSnapshotFactory.create(rep=rep, day=D, ssi=ssi)
        ScoredDayFactory.create(day=D, reps=3)  # the right count, the wrong ranks
    body, _ = get_board(acme)
    assert [(r["rank"], r["rep"], r["top_percent"]) for r in body["results"]] == [
        (1, "y", 34),
        (2, "z", 67),
        (3, "x", 100),
    ]
