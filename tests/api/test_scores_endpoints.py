"""Scores through the API: ``/api/v1/reps/{id}/ssi`` (+ history, explain), ``/api/v1/scores``,
``POST /api/v1/scores/recompute`` and ``/api/v1/jobs/{id}``.

Events are ingested through the API for reps in two teams, a day is scored, and the
answers are checked against numbers computed by hand from docs/scoring.md under the
default config (window 90 days, half-life 30 days).

The scenario (acme, Europe/Berlin; D = 2026-03-10):

* ann (North): profile_updated 80 and 2 post_published on D.
* dan (South): the same events as ann, so the same SSI: a tie.
* bob (North): 1 post_published on D-30 (decayed to 0.5), people_search value 6 on D,
  and an article_published on D-90 (outside the 90-day window: ignored).
* cat (South): connections_synced 1000 on D-5 then 250 on D-2 (the latest counts),
  message_received 4 and message_replied 2 on D-1, connections_synced 500 on D+1 (after D:
  ignored).
* zoe (no team): no events at all, still scored (0).
* ivy (North, inactive): events on D, never scored.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from scoring.models import ScoredDay, ScoreSnapshot
from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

D = date(2026, 3, 10)
PILLARS = ("brand", "find", "engage", "relationships")


def day(offset: int = 0) -> str:
    return (D + timedelta(days=offset)).isoformat()


# --- the hand computation (docs/scoring.md#the-default-config) -----------------------------------
# pillar = max_points * sum(w * n) / sum(w); weight sums: brand 3+2+1+1+1 = 8, find 2+2+1+3 = 8,
# engage 1+2+2+1+2+1 = 9, relationships 2+2+2 = 6.

ANN = {
    # profile_completeness n = 80/100 (w 3); posts x = 2 (age 0, no decay), n = 2/12 (w 2)
    "brand": 25 * (3 * (80 / 100) + 2 * (2 / 12)) / 8,
    # active_days: 1 day, n = 1/45 (w 3)
    "find": 25 * (3 * (1 / 45)) / 8,
    "engage": 0.0,
    "relationships": 0.0,
}
BOB = {
    # posts: 1 post aged 30 days, x = 1 * 0.5 ** (30 / 30) = 0.5, n = 0.5/12 (w 2); the article is 90 days
    # old (a = W): outside the window
    "brand": 25 * (2 * ((1 * 0.5 ** (30 / 30)) / 12)) / 8,
    # searches x = 6, n = 6/30 (w 2); active_days: D-30 and D, n = 2/45 (w 3)
    "find": 25 * (2 * (6 / 30) + 3 * (2 / 45)) / 8,
    "engage": 0.0,
    "relationships": 0.0,
}
CAT = {
    "brand": 0.0,
    # active_days: D-5, D-2, D-1 (D+1 is after D), n = 3/45 (w 3)
    "find": 25 * (3 * (3 / 45)) / 8,
    # response_rate: num 2, den 4 (>= min_denominator 1), n = min(1, (2/4) / 0.8) = 0.625 (w 2)
    "engage": 25 * (2 * min(1, (2 / 4) / 0.8)) / 9,
    # connections: the latest connections_synced on or before D is 250, n = 250/500 (w 2)
    "relationships": 25 * (2 * (250 / 500)) / 6,
}
ZERO = {p: 0.0 for p in PILLARS}
EXPECTED = {"ann": ANN, "dan": ANN, "bob": BOB, "cat": CAT, "zoe": ZERO}


def ssi_of(rep: str) -> float:
    return sum(EXPECTED[rep].values())


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def averages_of(reps: list[str]) -> dict[str, float]:
    out = {"ssi": mean([ssi_of(r) for r in reps])}
    for p in PILLARS:
        out[p] = mean([EXPECTED[r][p] for r in reps])
    return out


def close(value: float) -> Any:
    """An API score: the exact value rounded to 2 decimals."""
    return pytest.approx(value, abs=0.005 + 1e-9)


# --- fixtures ----------------------------------------------------------------------------------------


def ev(id: str, rep: str, type: str, when: str, value: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": id, "rep": rep, "type": type, "occurred_at": when}
    if value is not None:
        out["value"] = value
    return out


def at(offset: int, hour: int = 12) -> str:
    return f"{day(offset)}T{hour:02d}:00:00+01:00"


@pytest.fixture
def scenario(acme: ApiClient) -> dict[str, int]:
    """The reps and events above, ingested through the API. Returns the team ids."""
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        RepFactory.create(external_id="ann", team=north)
        RepFactory.create(external_id="bob", team=north)
        RepFactory.create(external_id="cat", team=south)
        RepFactory.create(external_id="dan", team=south)
        RepFactory.create(external_id="zoe", team=None)
        RepFactory.create(external_id="ivy", team=north, active=False)
    events = []
    for rep in ("ann", "dan"):
        events += [
            ev(f"{rep}-1", rep, "profile_updated", at(0, 9), 80),
            ev(f"{rep}-2", rep, "post_published", at(0, 10)),
            ev(f"{rep}-3", rep, "post_published", at(0, 11)),
        ]
    events += [
        ev("bob-1", "bob", "post_published", at(-30)),
        ev("bob-2", "bob", "people_search", at(0), 6),
        ev("bob-3", "bob", "article_published", at(-90)),
        ev("cat-1", "cat", "connections_synced", at(-5), 1000),
        ev("cat-2", "cat", "connections_synced", at(-2), 250),
        ev("cat-3", "cat", "message_received", at(-1), 4),
        ev("cat-4", "cat", "message_replied", at(-1), 2),
        ev("cat-5", "cat", "connections_synced", at(1), 500),
        ev("ivy-1", "ivy", "post_published", at(0)),
        ev("ivy-2", "ivy", "post_published", at(0, 13)),
    ]
    response = acme.post("/api/v1/activities", {"events": events})
    assert response.json() == {"accepted": len(events), "duplicates": 0, "rejected": []}
    return {"north": north.pk, "south": south.pk}


def compute(*days: date) -> None:
    with in_tenant("acme") as tenant:
        for d in days:
            scores_compute_day(tenant=tenant, day=d)


def ssi(client: ApiClient, rep: str, **params: Any) -> Any:
    return client.get(f"/api/v1/reps/{rep}/ssi", params)


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


# --- GET /api/v1/reps/{id}/ssi -----------------------------------------------------------------------


@pytest.mark.parametrize("rep", ["ann", "bob", "cat", "dan", "zoe"])
def test_the_ssi_is_the_hand_computed_score(acme: ApiClient, scenario: dict[str, int], rep: str) -> None:
    compute(D)
    body = ok(ssi(acme, rep, date=day()))
    assert body["rep"] == rep
    assert body["date"] == day()
    assert body["config_version"] == 1
    assert set(body["pillars"]) == set(PILLARS)
    for p in PILLARS:
        assert body["pillars"][p] == close(EXPECTED[rep][p]), p
    assert body["ssi"] == close(ssi_of(rep))


def test_the_hand_computed_numbers_are_these(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    got = {rep: ok(ssi(acme, rep, date=day()))["ssi"] for rep in EXPECTED}
    # ann: 25*(2.4 + 0.3333)/8 + 25*0.0667/8 = 8.5417 + 0.2083
    # bob: 25*0.0833/8 + 25*(0.4 + 0.1333)/8 = 0.2604 + 1.6667
    # cat: 0.625 + 31.25/9 + 25/6
    assert got == {"ann": 8.75, "dan": 8.75, "bob": 1.93, "cat": 8.26, "zoe": 0.0}


def test_scores_are_shown_with_2_decimals(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    body = ok(ssi(acme, "cat", date=day()))
    for value in [body["ssi"], *body["pillars"].values()]:
        assert round(value, 2) == value


def test_ranks_count_reps_with_a_strictly_higher_ssi_and_ties_share_a_rank(
    acme: ApiClient, scenario: dict[str, int]
) -> None:
    compute(D)
    # Rounded SSIs: ann 8.75, dan 8.75, cat 8.26, bob 1.93, zoe 0.00; ivy is inactive: not ranked.
    # top_percent = ceil(100 * rank / of)
    expected_tenant = {
        "ann": (1, 5, math.ceil(100 * 1 / 5)),
        "dan": (1, 5, 20),
        "cat": (3, 5, 60),
        "bob": (4, 5, 80),
        "zoe": (5, 5, 100),
    }
    # North: ann 8.75, bob 1.93 (ivy inactive); South: dan 8.75, cat 8.26; zoe has no team.
    expected_team = {
        "ann": (1, 2, 50),
        "bob": (2, 2, 100),
        "dan": (1, 2, 50),
        "cat": (2, 2, 100),
        "zoe": None,
    }
    for rep in EXPECTED:
        rank = ok(ssi(acme, rep, date=day()))["rank"]
        assert (rank["tenant"]["rank"], rank["tenant"]["of"], rank["tenant"]["top_percent"]) == (
            expected_tenant[rep]
        ), rep
        team = rank["team"]
        if expected_team[rep] is None:
            assert team is None
        else:
            assert (team["rank"], team["of"], team["top_percent"]) == expected_team[rep], rep


def test_averages_are_over_the_tenants_and_the_teams_active_reps(
    acme: ApiClient, scenario: dict[str, int]
) -> None:
    compute(D)
    tenant = averages_of(["ann", "bob", "cat", "dan", "zoe"])
    north = averages_of(["ann", "bob"])
    south = averages_of(["cat", "dan"])
    # e.g. tenant ssi = (8.75 + 1.9271 + 8.2639 + 8.75 + 0) / 5 = 5.5382
    assert ok(ssi(acme, "zoe", date=day()))["averages"]["tenant"]["ssi"] == 5.54

    for rep, team in [("ann", north), ("bob", north), ("cat", south), ("dan", south), ("zoe", None)]:
        averages = ok(ssi(acme, rep, date=day()))["averages"]
        assert set(averages["tenant"]) == {"ssi", *PILLARS}
        for key, value in tenant.items():
            assert averages["tenant"][key] == close(value), (rep, key)
        if team is None:
            assert averages["team"] is None
        else:
            for key, value in team.items():
                assert averages["team"][key] == close(value), (rep, key)


def test_a_day_without_a_snapshot_is_a_404(acme: ApiClient, scenario: dict[str, int]) -> None:
    assert_error(ssi(acme, "ann", date=day()), 404)
    compute(D)
    assert_error(ssi(acme, "ann", date=day(-1)), 404)
    assert_error(ssi(acme, "ann", date=day(1)), 404)


def test_an_unknown_rep_is_a_404(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    assert_error(ssi(acme, "nobody", date=day()), 404)


def test_a_bad_date_is_a_400(acme: ApiClient, scenario: dict[str, int]) -> None:
    assert_error(ssi(acme, "ann", date="10.03.2026"), 400, attr="date")


def test_without_a_date_the_latest_snapshot_is_answered(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D, D - timedelta(days=1))
    body = ok(ssi(acme, "ann"))
    assert body["date"] == day()
    assert body["ssi"] == close(ssi_of("ann"))


def test_a_rep_with_zero_activity_gets_a_snapshot_of_zero(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    body = ok(ssi(acme, "zoe", date=day()))
    assert body["ssi"] == 0
    assert body["pillars"] == {p: 0 for p in PILLARS}


def test_an_inactive_rep_gets_no_snapshot(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    assert_error(ssi(acme, "ivy", date=day()), 404)
    assert_error(ssi(acme, "ivy"), 404)
    scores = ok(acme.get("/api/v1/scores", {"date": day()}))
    assert "ivy" not in [r["rep"] for r in scores["results"]]


def test_the_snapshot_records_the_config_version_it_was_computed_with(
    acme: ApiClient, scenario: dict[str, int]
) -> None:
    compute(D - timedelta(days=1))
    config = {k: v for k, v in acme.get("/api/v1/scoring-config").json().items() if k != "created_at"}
    config["pillars"]["brand"]["signals"][1]["target"] = 6  # posts: 12 -> 6
    assert acme.put("/api/v1/scoring-config", config).json()["version"] == 2
    compute(D)

    body = ok(ssi(acme, "ann", date=day()))
    assert body["config_version"] == 2
    # posts n = 2/6 now
    assert body["pillars"]["brand"] == close(25 * (3 * 0.8 + 2 * (2 / 6)) / 8)
    assert ok(ssi(acme, "ann", date=day(-1)))["config_version"] == 1


@pytest.mark.parametrize("role", ["integration", "read"])
def test_every_key_can_read_scores(world: World, scenario: dict[str, int], role: str) -> None:
    compute(D)
    client = ApiClient(world.acme.host, getattr(world.acme, role))
    for path in ("ssi", "ssi/history", "ssi/explain"):
        assert client.get(f"/api/v1/reps/ann/{path}").status_code == 200, path
    assert client.get("/api/v1/scores", {"date": day()}).status_code == 200


# --- /ssi/history -------------------------------------------------------------------------------------


def test_history_lists_the_days_in_order(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D, D - timedelta(days=2), D - timedelta(days=1))
    response = acme.get("/api/v1/reps/ann/ssi/history", {"from": day(-2), "to": day()})
    assert response.status_code == 200, response.content
    history = response.json()
    assert [h["date"] for h in history] == [day(-2), day(-1), day()]
    # ann's events are all on D: nothing before.
    assert [h["ssi"] for h in history] == [0, 0, close(ssi_of("ann"))]
    # Each item is the same object as /ssi, without /ssi's place in the industry benchmark.
    assert {**history[-1], "industry": None} == ok(ssi(acme, "ann", date=day()))


def test_history_keeps_to_from_and_to(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D, D - timedelta(days=2), D - timedelta(days=1))
    history = acme.get("/api/v1/reps/ann/ssi/history", {"from": day(-1), "to": day(-1)}).json()
    assert [h["date"] for h in history] == [day(-1)]
    history = acme.get("/api/v1/reps/ann/ssi/history", {"from": day(-1)}).json()
    assert [h["date"] for h in history] == [day(-1), day()]
    history = acme.get("/api/v1/reps/ann/ssi/history", {"to": day(-2)}).json()
    assert [h["date"] for h in history] == [day(-2)]


def test_history_with_from_after_to_is_a_400(acme: ApiClient, scenario: dict[str, int]) -> None:
    response = acme.get("/api/v1/reps/ann/ssi/history", {"from": day(), "to": day(-1)})
    assert_error(response, 400)


def test_history_of_an_unknown_rep_is_a_404(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/reps/nobody/ssi/history"), 404)


# --- /ssi/explain -------------------------------------------------------------------------------------

SIGNAL_ORDER = [
    ("brand", "profile_completeness", "state"),
    ("brand", "posts", "count"),
    ("brand", "articles", "count"),
    ("brand", "endorsements", "count"),
    ("brand", "followers", "count"),
    ("find", "searches", "count"),
    ("find", "profile_views", "count"),
    ("find", "leads_saved", "count"),
    ("find", "active_days", "active_days"),
    ("engage", "reactions", "count"),
    ("engage", "comments", "count"),
    ("engage", "shares", "count"),
    ("engage", "messages", "count"),
    ("engage", "response_rate", "ratio"),
    ("engage", "groups", "count"),
    ("relationships", "connections", "state"),
    ("relationships", "acceptance_rate", "ratio"),
    ("relationships", "decision_makers", "count"),
]
WEIGHTS = [3, 2, 1, 1, 1, 2, 2, 1, 3, 1, 2, 2, 1, 2, 1, 2, 2, 2]
WEIGHT_SUM = {"brand": 8, "find": 8, "engage": 9, "relationships": 6}


def explain(client: ApiClient, rep: str, **params: Any) -> dict[str, Any]:
    return ok(client.get(f"/api/v1/reps/{rep}/ssi/explain", params))


def test_explain_lists_all_18_signals_in_the_models_order(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    body = explain(acme, "ann", date=day())
    signals = body["signals"]
    assert [(s["pillar"], s["key"], s["kind"]) for s in signals] == SIGNAL_ORDER
    assert [s["weight"] for s in signals] == WEIGHTS
    for s in signals:
        assert {"pillar", "key", "kind", "x", "n", "weight", "points"} <= set(s)
    # And it carries the /ssi answer.
    plain = ok(ssi(acme, "ann", date=day()))
    assert {k: body[k] for k in plain} == plain


def test_explain_shows_x_n_and_points_of_each_signal(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    signals = {s["key"]: s for s in explain(acme, "ann", date=day())["signals"]}
    # points = max_points * w * n / sum_w
    expected = {
        "profile_completeness": (80, 80 / 100, 25 * 3 * (80 / 100) / 8),
        "posts": (2, 2 / 12, 25 * 2 * (2 / 12) / 8),
        "active_days": (1, 1 / 45, 25 * 3 * (1 / 45) / 8),
    }
    for key, s in signals.items():
        x, n, points = expected.get(key, (0, 0, 0))
        assert s["x"] == pytest.approx(x, abs=1e-4), key
        assert s["n"] == pytest.approx(n, abs=1e-4), key
        assert s["points"] == close(points), key
    brand_points = sum(s["points"] for s in signals.values() if s["pillar"] == "brand")
    assert brand_points == close(ANN["brand"])


def test_explain_shows_a_ratios_numerator_and_denominator(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    signals = {s["key"]: s for s in explain(acme, "cat", date=day())["signals"]}
    rate = signals["response_rate"]
    assert (rate["num"], rate["den"]) == (2, 4)
    assert rate["x"] == pytest.approx(0.5)
    assert rate["n"] == pytest.approx(0.625)
    assert rate["points"] == close(25 * 2 * 0.625 / 9)
    assert signals["connections"]["x"] == 250
    assert signals["connections"]["n"] == pytest.approx(0.5)
    # No request sent: the acceptance rate is below min_denominator, so 0.
    assert signals["acceptance_rate"]["n"] == 0
    assert signals["active_days"]["x"] == 3


def test_explain_recommends_the_3_largest_gains_ties_in_the_models_order(
    acme: ApiClient, scenario: dict[str, int]
) -> None:
    compute(D)
    recommendations = explain(acme, "ann", date=day())["recommendations"]
    # gain = max_points * w * (1 - n) / sum_w. For ann: active_days 25*3*(44/45)/8 = 9.17; then the three
    # relationships signals all gain 25*2/6 = 8.33, ties going in signal order: connections,
    # acceptance_rate (decision_makers is 4th). Every other signal gains less (searches 6.25, ...).
    assert [(r["pillar"], r["key"]) for r in recommendations] == [
        ("find", "active_days"),
        ("relationships", "connections"),
        ("relationships", "acceptance_rate"),
    ]
    assert [r["gain"] for r in recommendations] == [
        close(25 * 3 * (1 - 1 / 45) / 8),
        close(25 * 2 / 6),
        close(25 * 2 / 6),
    ]
    for r in recommendations:
        assert isinstance(r["tip"], str) and r["tip"].strip()
    assert len({r["tip"] for r in recommendations}) == 3


def test_explain_of_a_rep_with_zero_activity_recommends_in_pillar_order_on_ties(
    acme: ApiClient, scenario: dict[str, int]
) -> None:
    compute(D)
    recommendations = explain(acme, "zoe", date=day())["recommendations"]
    # Every n is 0, so gain = points at target: find.active_days 25*3/8 = 9.375 and brand.profile_completeness
    # 9.375 tie (brand first), then relationships' 8.33s.
    assert [(r["pillar"], r["key"]) for r in recommendations] == [
        ("brand", "profile_completeness"),
        ("find", "active_days"),
        ("relationships", "connections"),
    ]
    assert [r["gain"] for r in recommendations] == [close(9.375), close(9.375), close(25 * 2 / 6)]


def test_explain_explains_the_snapshot_it_shows_even_after_late_events(
    acme: ApiClient, scenario: dict[str, int]
) -> None:
    compute(D)
    late = ev("zoe-late", "zoe", "decision_maker_connected", at(-3), 10)
    assert acme.post("/api/v1/activities", {"events": [late]}).json()["accepted"] == 1
    body = explain(acme, "zoe", date=day())
    assert body["ssi"] == 0  # the snapshot, computed before the late event
    for p in PILLARS:
        points = sum(s["points"] for s in body["signals"] if s["pillar"] == p)
        assert points == close(body["pillars"][p]), p


def test_explain_without_a_snapshot_is_a_404(acme: ApiClient, scenario: dict[str, int]) -> None:
    assert_error(acme.get("/api/v1/reps/ann/ssi/explain", {"date": day()}), 404)


# --- GET /api/v1/scores -------------------------------------------------------------------------------


def test_scores_of_a_day_are_paginated_and_sorted_by_rank(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    body = ok(acme.get("/api/v1/scores", {"date": day()}))
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 5
    results = body["results"]
    assert [r["rep"] for r in results] == ["ann", "dan", "cat", "bob", "zoe"]
    assert [r["rank"]["tenant"]["rank"] for r in results] == [1, 1, 3, 4, 5]
    assert {**results[2], "industry": None} == ok(ssi(acme, "cat", date=day()))

    first = ok(acme.get("/api/v1/scores", {"date": day(), "page_size": 2}))
    assert [r["rep"] for r in first["results"]] == ["ann", "dan"]
    assert first["next"] is not None
    last = ok(acme.get("/api/v1/scores", {"date": day(), "page_size": 2, "page": 3}))
    assert [r["rep"] for r in last["results"]] == ["zoe"]
    assert last["next"] is None


def test_scores_without_a_date_are_the_latest_scored_day(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D - timedelta(days=1), D)
    body = ok(acme.get("/api/v1/scores"))
    assert {r["date"] for r in body["results"]} == {day()}


def test_scores_as_csv_have_a_header_row_and_one_row_per_rep(
    acme: ApiClient, scenario: dict[str, int]
) -> None:
    compute(D)
    response = acme.get("/api/v1/scores", {"date": day()}, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 5
    assert [r["rep"] for r in rows] == ["ann", "dan", "cat", "bob", "zoe"]
    assert {r["date"] for r in rows} == {day()}
    by_rep = {r["rep"]: r for r in rows}
    for rep in EXPECTED:
        assert float(by_rep[rep]["ssi"]) == close(ssi_of(rep))
        for p in PILLARS:
            assert float(by_rep[rep][p]) == close(EXPECTED[rep][p])
    header = response.content.decode().splitlines()[0].split(",")
    assert header[:3] == ["rep", "date", "ssi"]


def test_scores_errors_are_json_even_when_csv_is_asked_for(acme: ApiClient) -> None:
    response = acme.get("/api/v1/scores", {"date": "yesterday"}, headers={"Accept": "text/csv"})
    assert_error(response, 400, attr="date")


# --- POST /api/v1/scores/recompute and GET /api/v1/jobs/{id} ------------------------------------------


def test_recompute_answers_202_with_a_job_that_runs_and_succeeds(
    acme: ApiClient, scenario: dict[str, int], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.post("/api/v1/scores/recompute", {"date": day()})
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"job"}
    assert set(body["job"]) >= {"id", "status"}
    assert body["job"]["status"] in ("queued", "running", "succeeded")

    job = ok(acme.get(f"/api/v1/jobs/{body['job']['id']}"))
    assert job["id"] == body["job"]["id"]
    assert job["status"] == "succeeded"
    assert job["progress"] == {"done": 5, "total": 5}
    assert job["started_at"] and job["finished_at"]
    assert job["started_at"] <= job["finished_at"]
    assert job["duration_seconds"] is not None and job["duration_seconds"] >= 0

    assert ok(ssi(acme, "ann", date=day()))["ssi"] == close(ssi_of("ann"))
    assert ok(acme.get("/api/v1/scores", {"date": day()}))["count"] == 5


def test_a_job_not_yet_run_is_queued(acme: ApiClient, scenario: dict[str, int]) -> None:
    response = acme.post("/api/v1/scores/recompute", {"date": day()})
    assert response.status_code == 202
    job = ok(acme.get(f"/api/v1/jobs/{response.json()['job']['id']}"))
    assert job["status"] == "queued"
    assert job["started_at"] is None and job["finished_at"] is None
    assert_error(ssi(acme, "ann", date=day()), 404)


def test_recompute_without_a_date_scores_the_tenants_local_yesterday(
    acme: ApiClient, scenario: dict[str, int], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.post("/api/v1/scores/recompute", {})
    assert response.status_code == 202
    yesterday = timezone.now().astimezone(ZoneInfo("Europe/Berlin")).date() - timedelta(days=1)
    assert ok(ssi(acme, "zoe"))["date"] == yesterday.isoformat()


@pytest.mark.parametrize("role", ["read", "integration"])
def test_only_admins_may_recompute(world: World, scenario: dict[str, int], role: str) -> None:
    client = ApiClient(world.acme.host, getattr(world.acme, role))
    assert_error(client.post("/api/v1/scores/recompute", {"date": day()}), 403, code="permission_denied")
    with in_tenant("acme"):
        assert ScoreSnapshot.objects.count() == 0


def test_recompute_of_a_day_in_the_future_is_a_400(acme: ApiClient) -> None:
    future = (timezone.now() + timedelta(days=2)).date().isoformat()
    assert_error(acme.post("/api/v1/scores/recompute", {"date": future}), 400, attr="date")


@pytest.mark.parametrize(
    ("body", "attr"),
    [({"date": "2026-02-30"}, "date"), ({"reps": ["nobody"]}, "reps.0"), ({"when": "today"}, "when")],
)
def test_recompute_with_bad_input_is_a_400(acme: ApiClient, body: dict[str, Any], attr: str) -> None:
    assert_error(acme.post("/api/v1/scores/recompute", body), 400, attr=attr)


def test_an_unknown_job_is_a_404(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/jobs/00000000-0000-4000-8000-000000000000"), 404)


def _snapshots() -> list[dict[str, Any]]:
    with in_tenant("acme"):
        rows = [
            {k: v for k, v in model_to_dict(s).items() if k not in ("id", "computed_at")}
            for s in ScoreSnapshot.objects.order_by("rep_id", "day")
        ]
        days = [(d.day, d.config_version, d.reps, d.averages) for d in ScoredDay.objects.order_by("day")]
    return [*rows, {"days": days}]


def test_recomputing_a_day_twice_gives_identical_snapshots(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    before = _snapshots()
    json_before = acme.get("/api/v1/scores", {"date": day()}).json()
    csv_before = acme.get("/api/v1/scores", {"date": day()}, headers={"Accept": "text/csv"}).content

    compute(D)
    assert _snapshots() == before
    assert acme.get("/api/v1/scores", {"date": day()}).json() == json_before
    assert acme.get("/api/v1/scores", {"date": day()}, headers={"Accept": "text/csv"}).content == csv_before


def test_recomputing_through_the_api_twice_changes_nothing(
    acme: ApiClient, scenario: dict[str, int], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        acme.post("/api/v1/scores/recompute", {"date": day()})
    before = _snapshots()
    with django_capture_on_commit_callbacks(execute=True):
        second = acme.post("/api/v1/scores/recompute", {"date": day()})
    assert ok(acme.get(f"/api/v1/jobs/{second.json()['job']['id']}"))["status"] == "succeeded"
    assert _snapshots() == before


def test_a_recompute_picks_up_events_ingested_since(acme: ApiClient, scenario: dict[str, int]) -> None:
    compute(D)
    event = ev("zoe-1", "zoe", "decision_maker_connected", at(0), 4)
    assert acme.post("/api/v1/activities", {"events": [event]}).json()["accepted"] == 1
    assert ok(ssi(acme, "zoe", date=day()))["ssi"] == 0  # snapshots do not move by themselves
    compute(D)
    # decision_makers: x = 4, n = 4/20 (w 2 of 6); find.active_days 1/45 (w 3 of 8)
    expected = 25 * 2 * (4 / 20) / 6 + 25 * 3 * (1 / 45) / 8
    assert ok(ssi(acme, "zoe", date=day()))["ssi"] == close(expected)
