"""The company's and the teams' SSI of a day: ``/api/v1/company/ssi`` (+ history) and
``/api/v1/teams/{id}/ssi`` (+ history), numbers computed by hand (docs/scoring.md#company-and-team-ssi).

The scenario (acme; D = 2026-03-10), snapshots written by the factories and the day's
summaries stored by ``ssi_summaries_refresh``, as every writer of snapshots does:

| rep | team  | active | snapshot on D: ssi (brand, find, engage, relationships) |
|-----|-------|--------|----------------------------------------------------------|
| amy | North | yes    | 70.00 (20, 20, 20, 10): good, the lower edge              |
| ben | North | yes    | 40.00 (10, 10, 10, 10): okay, the lower edge              |
| cas | South | yes    | 39.99 (9.99, 10, 10, 10): poor                            |
| deb | none  | yes    | 10.03 (10.03, 0, 0, 0): poor                              |
| eve | North | no     | 100 (25, 25, 25, 25): inactive, left out                  |
| fay | South | yes    | none on D (60 on D-1): left out of D                      |

The company on D: 4 reps; mean (70 + 40 + 39.99 + 10.03) / 4 = 160.02 / 4 = 40.005 -> 40.01
(half away from zero); median (39.99 + 40) / 2 = 39.995 -> 40.00; brand
(20 + 10 + 9.99 + 10.03) / 4 = 12.505 -> 12.51; find and engage 40 / 4 = 10; relationships
30 / 4 = 7.5; bands good 1 (amy), okay 1 (ben), poor 2.
North on D: amy and ben: mean and median 55, pillars 15, 15, 15, 10; good 1, okay 1.
South on D: cas alone. On D-1 (amy and fay, 60 each): the company's mean and median 60,
both okay.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from scoring.models import Rep, SsiSummary, Team
from scoring.services.people import rep_delete
from scoring.services.recompute import scores_compute_day
from scoring.services.summaries import ssi_summaries_refresh
from tests.factories.scoring import RepFactory, ScoreSnapshotFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.rep_tokens import mint
from tests.support.tenants import World, in_tenant

D = date(2026, 3, 10)
D1 = D - timedelta(days=1)


def snap(rep: Rep, day: date, ssi: float, pillars: tuple[float, float, float, float]) -> None:
    brand, find, engage, relationships = pillars
    ScoreSnapshotFactory.create(
        rep=rep,
        day=day,
        team=rep.team,
        ssi=ssi,
        brand=brand,
        find=find,
        engage=engage,
        relationships=relationships,
    )


@pytest.fixture
def teams(acme: ApiClient) -> dict[str, int]:
    """The scenario above on acme; returns the team ids."""
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        reps = {
            "amy": RepFactory.create(external_id="amy", team=north),
            "ben": RepFactory.create(external_id="ben", team=north),
            "cas": RepFactory.create(external_id="cas", team=south),
            "deb": RepFactory.create(external_id="deb", team=None),
            "eve": RepFactory.create(external_id="eve", team=north, active=False),
            "fay": RepFactory.create(external_id="fay", team=south),
        }
        snap(reps["amy"], D, 70.0, (20, 20, 20, 10))
        snap(reps["ben"], D, 40.0, (10, 10, 10, 10))
        snap(reps["cas"], D, 39.99, (9.99, 10, 10, 10))
        snap(reps["deb"], D, 10.03, (10.03, 0, 0, 0))
        snap(reps["eve"], D, 100.0, (25, 25, 25, 25))
        # D-1: amy 60 and fay 60 (a later "latest" is D)
        snap(reps["amy"], D1, 60.0, (15, 15, 15, 15))
        snap(reps["fay"], D1, 60.0, (15, 15, 15, 15))
        ssi_summaries_refresh(days=[D, D1])
    return {"north": north.pk, "south": south.pk}


COMPANY_D = {
    "date": "2026-03-10",
    "reps": 4,
    "mean": 40.01,
    "median": 40.0,
    "pillars": {"brand": 12.51, "find": 10.0, "engage": 10.0, "relationships": 7.5},
    "bands": {"good": 1, "okay": 1, "poor": 2},
}
COMPANY_D1 = {
    "date": "2026-03-09",
    "reps": 2,
    "mean": 60.0,
    "median": 60.0,
    "pillars": {"brand": 15.0, "find": 15.0, "engage": 15.0, "relationships": 15.0},
    "bands": {"good": 0, "okay": 2, "poor": 0},
}


def north_d(team: int) -> dict[str, Any]:
    return {
        "date": "2026-03-10",
        "reps": 2,
        "mean": 55.0,
        "median": 55.0,
        "pillars": {"brand": 15.0, "find": 15.0, "engage": 15.0, "relationships": 10.0},
        "bands": {"good": 1, "okay": 1, "poor": 0},
        "team": team,
    }


def south_d(team: int) -> dict[str, Any]:
    return {
        "date": "2026-03-10",
        "reps": 1,
        "mean": 39.99,
        "median": 39.99,
        "pillars": {"brand": 9.99, "find": 10.0, "engage": 10.0, "relationships": 10.0},
        "bands": {"good": 0, "okay": 0, "poor": 1},
        "team": team,
    }


def test_company_ssi_of_a_day_matches_the_hand_computation(acme: ApiClient, teams: dict[str, int]) -> None:
    response = acme.get("/api/v1/company/ssi?date=2026-03-10")
    assert response.status_code == 200, response.content
    assert response.json() == {**COMPANY_D, "industry": None}


def test_company_ssi_without_a_date_is_the_latest_scored_day(acme: ApiClient, teams: dict[str, int]) -> None:
    assert acme.get("/api/v1/company/ssi").json() == {**COMPANY_D, "industry": None}


def test_company_ssi_of_an_earlier_day_counts_that_days_reps(acme: ApiClient, teams: dict[str, int]) -> None:
    assert acme.get("/api/v1/company/ssi?date=2026-03-09").json() == {**COMPANY_D1, "industry": None}


def test_team_ssi_counts_the_teams_active_reps_with_a_snapshot(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    north, south = teams["north"], teams["south"]
    assert acme.get(f"/api/v1/teams/{north}/ssi?date=2026-03-10").json() == north_d(north)
    assert acme.get(f"/api/v1/teams/{south}/ssi").json() == south_d(south)
    on_d1 = acme.get(f"/api/v1/teams/{south}/ssi?date=2026-03-09").json()
    assert (on_d1["reps"], on_d1["mean"], on_d1["bands"]) == (1, 60.0, {"good": 0, "okay": 1, "poor": 0})


def test_an_odd_count_has_the_middle_value_as_median(acme: ApiClient, teams: dict[str, int]) -> None:
    with in_tenant("acme"):
        snap(RepFactory.create(external_id="gus"), D, 90.0, (25, 25, 25, 15))
        ssi_summaries_refresh(days=[D])
    body = acme.get("/api/v1/company/ssi?date=2026-03-10").json()
    # 10.03, 39.99, 40, 70, 90: the middle one; mean 250.02 / 5 = 50.004 -> 50.0
    assert (body["reps"], body["median"], body["mean"]) == (5, 40.0, 50.0)
    assert body["bands"] == {"good": 2, "okay": 1, "poor": 2}


def test_a_rep_shown_at_70_is_good_and_rounding_is_half_away_from_zero(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    with in_tenant("acme"):
        south = Team.objects.get(pk=teams["south"])
        # 69.995 is shown as 70.00 (half away from zero): good, as the rep reads it
        snap(RepFactory.create(external_id="hal", team=south), D, 69.995, (17.5, 17.5, 17.5, 17.495))
        ssi_summaries_refresh(days=[D])
    body = acme.get(f"/api/v1/teams/{teams['south']}/ssi?date=2026-03-10").json()
    # 39.99 and 70.00: mean and median 109.99 / 2 = 54.995 -> 55.0; relationships
    # (10 + 17.50) / 2 = 13.75; brand (9.99 + 17.5) / 2 = 13.745 -> 13.75
    assert body["bands"] == {"good": 1, "okay": 0, "poor": 1}
    assert (body["mean"], body["median"]) == (55.0, 55.0)
    assert body["pillars"] == {"brand": 13.75, "find": 13.75, "engage": 13.75, "relationships": 13.75}


def test_a_day_without_snapshots_is_not_scored(acme: ApiClient, teams: dict[str, int]) -> None:
    assert_error(acme.get("/api/v1/company/ssi?date=2026-03-11"), 404, "not_scored", "date")
    assert_error(acme.get(f"/api/v1/teams/{teams['north']}/ssi?date=2026-03-08"), 404, "not_scored")


def test_a_tenant_never_scored_answers_not_scored(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/company/ssi"), 404, "not_scored")
    assert acme.get("/api/v1/company/ssi/history").json() == []


def test_a_team_without_scored_reps_is_not_scored(acme: ApiClient, teams: dict[str, int]) -> None:
    with in_tenant("acme"):
        empty = TeamFactory.create(name="Empty").pk
    assert_error(acme.get(f"/api/v1/teams/{empty}/ssi"), 404, "not_scored")
    assert acme.get(f"/api/v1/teams/{empty}/ssi/history").json() == []


def test_an_unknown_team_is_not_found(acme: ApiClient, teams: dict[str, int]) -> None:
    assert_error(acme.get("/api/v1/teams/999999/ssi"), 404, "not_found")
    assert_error(acme.get("/api/v1/teams/999999/ssi/history"), 404, "not_found")


def test_a_bad_date_is_a_400(acme: ApiClient, teams: dict[str, int]) -> None:
    assert_error(acme.get("/api/v1/company/ssi?date=2026-13-01"), 400, "invalid_date", "date")
    assert_error(acme.get("/api/v1/company/ssi/history?to=yesterday"), 400, "invalid_date", "to")


def test_history_is_one_row_per_scored_day_oldest_first(acme: ApiClient, teams: dict[str, int]) -> None:
    assert acme.get("/api/v1/company/ssi/history").json() == [COMPANY_D1, COMPANY_D]
    assert acme.get("/api/v1/company/ssi/history?from=2026-03-10").json() == [COMPANY_D]
    assert acme.get("/api/v1/company/ssi/history?to=2026-03-09").json() == [COMPANY_D1]
    both = acme.get("/api/v1/company/ssi/history?from=2026-03-09&to=2026-03-10").json()
    assert [row["date"] for row in both] == ["2026-03-09", "2026-03-10"]
    north = teams["north"]
    rows = acme.get(f"/api/v1/teams/{north}/ssi/history?from=2026-03-01&to=2026-03-31").json()
    assert [row["date"] for row in rows] == ["2026-03-09", "2026-03-10"]
    assert rows[1] == north_d(north)


def test_history_refuses_from_after_to(acme: ApiClient, teams: dict[str, int]) -> None:
    query = "?from=2026-03-10&to=2026-03-09"
    assert_error(acme.get(f"/api/v1/company/ssi/history{query}"), 400, "invalid_range", "from")
    assert_error(acme.get(f"/api/v1/teams/{teams['north']}/ssi/history{query}"), 400, "invalid_range", "from")


def test_history_answers_at_most_400_days(acme: ApiClient) -> None:
    with in_tenant("acme"):
        rep = RepFactory.create(external_id="old")
        first = date(2025, 1, 1)
        days = [first + timedelta(days=i) for i in range(405)]
        for day in days:
            snap(rep, day, 50.0, (12.5, 12.5, 12.5, 12.5))
        ssi_summaries_refresh(days=days)
    rows = acme.get("/api/v1/company/ssi/history").json()
    assert len(rows) == 400
    assert (rows[0]["date"], rows[-1]["date"]) == ("2025-01-01", days[399].isoformat())


def test_every_key_role_reads_company_and_team_ssi(world: World, teams: dict[str, int]) -> None:
    for role in ("admin", "integration", "read"):
        client = ApiClient(world.acme.host, getattr(world.acme, role))
        for path in (
            "/api/v1/company/ssi",
            "/api/v1/company/ssi/history",
            f"/api/v1/teams/{teams['north']}/ssi",
            f"/api/v1/teams/{teams['north']}/ssi/history",
        ):
            assert client.get(path).status_code == 200, (role, path)


def test_a_rep_token_reads_the_company_and_its_own_team_only(
    world: World, acme: ApiClient, teams: dict[str, int]
) -> None:
    amy = ApiClient(world.acme.host, mint(acme, "amy")["token"])
    assert amy.get("/api/v1/company/ssi").json() == {**COMPANY_D, "industry": None}
    assert amy.get("/api/v1/company/ssi/history").status_code == 200
    assert amy.get(f"/api/v1/teams/{teams['north']}/ssi").json() == north_d(teams["north"])
    assert amy.get(f"/api/v1/teams/{teams['north']}/ssi/history").status_code == 200
    assert_error(amy.get(f"/api/v1/teams/{teams['south']}/ssi"), 403, "permission_denied")
    assert_error(amy.get(f"/api/v1/teams/{teams['south']}/ssi/history"), 403, "permission_denied")
    # a team that does not exist: the same 403, a rep token learns nothing from it
    assert_error(amy.get("/api/v1/teams/999999/ssi"), 403, "permission_denied")
    # a rep without a team reads no team
    deb = ApiClient(world.acme.host, mint(acme, "deb")["token"])
    assert deb.get("/api/v1/company/ssi").status_code == 200
    assert_error(deb.get(f"/api/v1/teams/{teams['north']}/ssi"), 403, "permission_denied")


def test_a_rep_token_follows_its_reps_team_as_it_is_now(
    world: World, acme: ApiClient, teams: dict[str, int]
) -> None:
    token = mint(acme, "amy")["token"]
    assert acme.patch("/api/v1/reps/amy", {"team": teams["south"]}).status_code == 200
    amy = ApiClient(world.acme.host, token)
    assert amy.get(f"/api/v1/teams/{teams['south']}/ssi").status_code == 200
    assert_error(amy.get(f"/api/v1/teams/{teams['north']}/ssi"), 403, "permission_denied")


def test_it_denies_cross_tenant_access(world: World, globex: ApiClient, teams: dict[str, int]) -> None:
    for role in ("admin", "integration", "read"):
        intruder = ApiClient(world.acme.host, getattr(world.globex, role))
        assert_error(intruder.get("/api/v1/company/ssi"), 401)
        assert_error(intruder.get(f"/api/v1/teams/{teams['north']}/ssi"), 401)
    # globex's own day: its one rep, never acme's
    with in_tenant("globex"):
        snap(RepFactory.create(external_id="gina"), D, 99.0, (25, 25, 25, 24))
        ssi_summaries_refresh(days=[D])
        globex_team = TeamFactory.create(name="North").pk
    body = globex.get("/api/v1/company/ssi?date=2026-03-10").json()
    assert (body["reps"], body["mean"], body["bands"]) == (1, 99.0, {"good": 1, "okay": 0, "poor": 0})
    reader = ApiClient(world.acme.host, world.acme.read)
    assert reader.get("/api/v1/company/ssi").json() == {**COMPANY_D, "industry": None}
    # acme's team id is no team of globex's
    if globex_team != teams["north"]:
        assert_error(globex.get(f"/api/v1/teams/{teams['north']}/ssi"), 404, "not_found")


def test_a_recompute_of_the_day_refreshes_its_stored_summaries(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    # One event for amy on D (09:00 in Berlin): profile_completeness n = 100/100 (weight 3 of 8):
    # brand 25 * 3 / 8 = 9.375 -> 9.38; active_days 1 of 45 (weight 3 of 8): find
    # 25 * 3 / 45 / 8 = 0.2083 -> 0.21; SSI 9.5833 -> 9.58. The other active reps have no
    # events: 0. eve is inactive (no snapshot), so the day holds amy, ben, cas, deb, fay.
    event = {
        "id": "amy-1",
        "rep": "amy",
        "type": "profile_updated",
        "occurred_at": "2026-03-10T09:00:00+01:00",
    }
    assert acme.post("/api/v1/activities", {"events": [{**event, "value": 100}]}).json()["accepted"] == 1
    with in_tenant("acme") as tenant:
        scores_compute_day(tenant=tenant, day=D)
    body = acme.get("/api/v1/company/ssi?date=2026-03-10").json()
    assert body == {
        "date": "2026-03-10",
        "reps": 5,
        "mean": 1.92,  # 9.58 / 5 = 1.916
        "median": 0.0,
        "pillars": {"brand": 1.88, "find": 0.04, "engage": 0.0, "relationships": 0.0},  # 9.38 / 5, 0.21 / 5
        "bands": {"good": 0, "okay": 0, "poor": 5},
        "industry": None,
    }
    north = acme.get(f"/api/v1/teams/{teams['north']}/ssi?date=2026-03-10").json()
    # amy and ben: 9.58 / 2 = 4.79; brand 9.38 / 2 = 4.69; find 0.21 / 2 = 0.105 -> 0.11
    assert (north["reps"], north["mean"], north["median"]) == (2, 4.79, 4.79)
    assert north["pillars"] == {"brand": 4.69, "find": 0.11, "engage": 0.0, "relationships": 0.0}
    # fay is in South's day now
    assert acme.get(f"/api/v1/teams/{teams['south']}/ssi?date=2026-03-10").json()["reps"] == 2
    # the other day is left as it was
    assert acme.get("/api/v1/company/ssi?date=2026-03-09").json() == {**COMPANY_D1, "industry": None}


def test_deleting_a_rep_refreshes_the_days_it_was_counted_in(acme: ApiClient, teams: dict[str, int]) -> None:
    with in_tenant("acme"):
        rep_delete(rep=Rep.objects.get(external_id="deb"))
    body = acme.get("/api/v1/company/ssi?date=2026-03-10").json()
    # 70, 40, 39.99: mean 149.99 / 3 = 49.9967 -> 50.0; median 40
    assert (body["reps"], body["mean"], body["median"]) == (3, 50.0, 40.0)
    assert body["bands"] == {"good": 1, "okay": 1, "poor": 1}


def test_a_rep_made_inactive_later_stays_in_the_stored_day(acme: ApiClient, teams: dict[str, int]) -> None:
    assert acme.patch("/api/v1/reps/deb", {"active": False}).status_code == 200
    assert acme.get("/api/v1/company/ssi?date=2026-03-10").json() == {**COMPANY_D, "industry": None}
    with in_tenant("acme"):
        assert SsiSummary.objects.filter(day=D, team=None).get().reps == 4
