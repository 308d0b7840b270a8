"""Pillars, SSI, explanations and recommendations.

The rules: docs/scoring.md#from-signals-to-pillars-and-the-ssi and
docs/scoring.md#explanations-and-recommendations.
"""

from __future__ import annotations

import copy
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scoring.engine import (
    DEFAULT,
    DEFAULT_CONFIG,
    EMPTY,
    Config,
    Event,
    RepAggregates,
    aggregate_events,
    parse_config,
    recommendations,
    score_rep,
    score_reps,
)
from scoring.engine.catalog import DEFAULT_TIPS, EVENT_TYPES

D = date(2026, 3, 10)
UTC_TZ = ZoneInfo("UTC")


def ev(type_: str, age: int, value: float = 1) -> Event:
    return Event(type_, datetime.combine(D - timedelta(days=age), time(12), tzinfo=UTC), value)


def aggregates(events: list[Event], config: Config = DEFAULT) -> RepAggregates:
    return aggregate_events(events, day=D, config=config, tz=UTC_TZ)


def config_from(change: Any) -> Config:
    data = copy.deepcopy(DEFAULT_CONFIG)
    change(data)
    return parse_config(data)


# A rep with activity in every pillar. Active days: ages 0, 5, 10, 30, 60 (age 100 is outside W=90).
ANN = [
    # brand
    ev("profile_updated", 10, value=60),
    ev("profile_updated", 5, value=80),  # latest: n = 80/100 = 0.8
    ev("post_published", 0),
    ev("post_published", 30),  # x = 1 + 0.5**(30/30) = 1.5; n = 1.5/12 = 0.125
    ev("endorsement_received", 0),
    ev("recommendation_received", 60),  # x = 1 + 0.5**(60/30) = 1.25; n = 1.25/10 = 0.125
    ev("follower_gained", 0, value=25),  # n = 25/50 = 0.5
    # find
    ev("people_search", 0, value=45),  # n = min(1, 45/30) = 1
    ev("profile_viewed", 0, value=15),  # n = 15/60 = 0.25
    # engage
    ev("post_liked", 0, value=30),  # n = 30/60 = 0.5
    ev("message_sent", 0, value=20),  # n = 20/40 = 0.5
    ev("message_received", 0, value=10),
    ev("message_replied", 0, value=4),  # n = (4/10)/0.8 = 0.5
    # relationships
    ev("connections_synced", 100, value=400),
    ev("connections_synced", 10, value=250),  # latest: n = 250/500 = 0.5
    ev("connection_request_sent", 5, value=10),
    ev("connection_request_accepted", 5, value=3),  # n = (3/10)/0.6 = 0.5
    ev("decision_maker_connected", 30, value=2),  # x = 2*0.5**(30/30) = 1; n = 1/20 = 0.05
]

# Weighted sums of n per pillar (weights from the default table):
BRAND_WN = 3 * 0.8 + 2 * 0.125 + 1 * 0 + 1 * 0.125 + 1 * 0.5  # = 3.275, sum of weights 8
FIND_WN = 2 * 1 + 2 * 0.25 + 1 * 0 + 3 * (5 / 45)  # = 17/6, sum of weights 8
ENGAGE_WN = 1 * 0.5 + 2 * 0 + 2 * 0 + 1 * 0.5 + 2 * 0.5 + 1 * 0  # = 2, sum of weights 9
RELATIONSHIPS_WN = 2 * 0.5 + 2 * 0.5 + 2 * 0.05  # = 2.1, sum of weights 6


def results_by_key(score: Any) -> dict[str, Any]:
    return {r.key: r for r in score.signals}


# --- pillars and SSI ---------------------------------------------------------------------


def test_pillars_and_ssi_of_a_rep_under_the_default_config() -> None:
    score = score_rep(DEFAULT, aggregates(ANN))
    assert score.pillars["brand"] == pytest.approx(10.234375, abs=1e-9)  # 25 * 3.275 / 8
    assert score.pillars["find"] == pytest.approx(425 / 48, abs=1e-9)  # 25 * (17/6) / 8 = 8.8541666...
    assert score.pillars["engage"] == pytest.approx(50 / 9, abs=1e-9)  # 25 * 2 / 9 = 5.5555...
    assert score.pillars["relationships"] == pytest.approx(8.75, abs=1e-9)  # 25 * 2.1 / 6
    # 10.234375 + 8.8541666... + 5.5555... + 8.75 = 33.3940972...
    assert score.ssi == pytest.approx(10.234375 + 425 / 48 + 50 / 9 + 8.75, abs=1e-9)
    assert list(score.pillars) == ["brand", "find", "engage", "relationships"]


def test_the_weighted_sums_written_above_match_the_formula() -> None:
    score = score_rep(DEFAULT, aggregates(ANN))
    assert score.pillars["brand"] == pytest.approx(25 * BRAND_WN / 8, abs=1e-9)
    assert score.pillars["find"] == pytest.approx(25 * FIND_WN / 8, abs=1e-9)
    assert score.pillars["engage"] == pytest.approx(25 * ENGAGE_WN / 9, abs=1e-9)
    assert score.pillars["relationships"] == pytest.approx(25 * RELATIONSHIPS_WN / 6, abs=1e-9)


def test_every_signal_of_the_example_rep_is_explained() -> None:
    got = {r.key: (r.x, r.n) for r in score_rep(DEFAULT, aggregates(ANN)).signals}
    expected = {
        "profile_completeness": (80, 0.8),  # latest profile_updated
        "posts": (1.5, 0.125),  # 1 + 0.5**(30/30); 1.5 / 12
        "articles": (0, 0),
        "endorsements": (1.25, 0.125),  # 1 + 0.5**(60/30); 1.25 / 10
        "followers": (25, 0.5),  # 25 / 50
        "searches": (45, 1),  # min(1, 45 / 30)
        "profile_views": (15, 0.25),  # 15 / 60
        "leads_saved": (0, 0),
        "active_days": (5, 5 / 45),  # ages 0, 5, 10, 30, 60
        "reactions": (30, 0.5),  # 30 / 60
        "comments": (0, 0),
        "shares": (0, 0),
        "messages": (20, 0.5),  # 20 / 40
        "response_rate": (0.4, 0.5),  # 4 / 10; 0.4 / 0.8
        "groups": (0, 0),
        "connections": (250, 0.5),  # latest connections_synced; 250 / 500
        "acceptance_rate": (0.3, 0.5),  # 3 / 10; 0.3 / 0.6
        "decision_makers": (1, 0.05),  # 2 * 0.5**(30/30); 1 / 20
    }
    assert list(got) == list(expected)
    for key, (x, n) in expected.items():
        assert got[key] == (pytest.approx(x, abs=1e-9), pytest.approx(n, abs=1e-9)), key


def test_custom_max_points_scale_each_pillar() -> None:
    def change(data: dict[str, Any]) -> None:
        for key, points in {"brand": 40, "find": 20, "engage": 20, "relationships": 20}.items():
            data["pillars"][key]["max_points"] = points

    config = config_from(change)
    score = score_rep(config, aggregates(ANN, config))
    assert score.pillars["brand"] == pytest.approx(16.375, abs=1e-9)  # 40 * 3.275 / 8
    assert score.pillars["find"] == pytest.approx(85 / 12, abs=1e-9)  # 20 * (17/6) / 8 = 7.08333...
    assert score.pillars["engage"] == pytest.approx(40 / 9, abs=1e-9)  # 20 * 2 / 9 = 4.4444...
    assert score.pillars["relationships"] == pytest.approx(7, abs=1e-9)  # 20 * 2.1 / 6
    # 16.375 + 7.08333... + 4.4444... + 7 = 34.902777...
    assert score.ssi == pytest.approx(16.375 + 85 / 12 + 40 / 9 + 7, abs=1e-9)


def test_changing_a_weight_changes_the_pillar() -> None:
    config = config_from(lambda data: data["pillars"]["brand"]["signals"][0].update(weight=1))
    score = score_rep(config, aggregates(ANN, config))
    # profile_completeness weight 3 -> 1: sum of weights 6
    assert score.pillars["brand"] == pytest.approx(25 * (1 * 0.8 + 2 * 0.125 + 0.125 + 0.5) / 6, abs=1e-9)


def test_a_rep_with_no_events_scores_zero_everywhere() -> None:
    for score in (score_rep(DEFAULT, EMPTY), score_rep(DEFAULT, aggregates([]))):
        assert score.ssi == 0
        assert score.pillars == {"brand": 0, "find": 0, "engage": 0, "relationships": 0}
        assert len(score.signals) == 18
        assert all(r.n == 0 and r.points == 0 for r in score.signals)


def test_a_perfect_rep_scores_100() -> None:
    # Every signal at n = 1: each pillar = max_points * sum(w) / sum(w) = max_points.
    events = [
        ev("profile_updated", 0, value=100),
        ev("post_published", 0, value=12),
        ev("article_published", 0, value=2),
        ev("endorsement_received", 0, value=10),
        ev("follower_gained", 0, value=50),
        ev("people_search", 0, value=30),
        ev("profile_viewed", 0, value=60),
        ev("lead_saved", 0, value=20),
        *[ev("post_liked", age, value=60) for age in range(45)],
        ev("post_commented", 0, value=20),
        ev("post_shared", 0, value=10),
        ev("message_sent", 0, value=40),
        ev("message_received", 0, value=5),
        ev("message_replied", 0, value=4),  # (4/5)/0.8 = 1
        ev("group_joined", 0, value=3),
        ev("connections_synced", 0, value=500),
        ev("connection_request_sent", 0, value=5),
        ev("connection_request_accepted", 0, value=3),  # (3/5)/0.6 = 1
        ev("decision_maker_connected", 0, value=20),
    ]
    score = score_rep(DEFAULT, aggregates(events))
    assert score.pillars == {
        key: pytest.approx(25, abs=1e-9) for key in ("brand", "find", "engage", "relationships")
    }
    assert score.ssi == pytest.approx(100, abs=1e-9)  # 25 * 4


# --- many reps ------------------------------------------------------------------------------


def test_score_reps_scores_every_listed_rep_zero_activity_included() -> None:
    scores = score_reps(DEFAULT, {"ann": aggregates(ANN), "zoe": aggregates(ANN)}, ["ann", "bob"])
    assert set(scores) == {"ann", "bob"}  # zoe is not listed (not active): not scored
    assert scores["ann"] == score_rep(DEFAULT, aggregates(ANN))
    assert scores["ann"].ssi == pytest.approx(10.234375 + 425 / 48 + 50 / 9 + 8.75, abs=1e-9)
    assert scores["bob"].ssi == 0  # no aggregates at all: zero activity
    assert scores["bob"].pillars == {"brand": 0, "find": 0, "engage": 0, "relationships": 0}


def test_score_reps_with_no_reps_is_empty() -> None:
    assert score_reps(DEFAULT, {"ann": aggregates(ANN)}, []) == {}


def test_scores_without_signals_are_the_very_same_pillars_and_ssi() -> None:
    """What a recompute stores (``signals=False``) equals score_rep's numbers to the last bit, on
    random events, under the default config and one whose signals sum several types."""
    several = config_from(
        lambda c: c["pillars"]["brand"]["signals"].append(
            {"key": "mix", "kind": "count", "types": ["post_liked", "post_shared", "lead_saved"],
             "target": 7, "weight": 1.5}
        )
    )  # fmt: skip
    rng = random.Random(3)
    types = sorted(EVENT_TYPES)
    for config in (DEFAULT, several):
        reps: dict[int, RepAggregates] = {}
        for rep in range(300):
            events = [
                ev(rng.choice(types), rng.randint(-2, 120), rng.choice([1, 1, 2.5, 0, -0.0, 40, 0.1]))
                for _ in range(rng.randint(0, 60))
            ]
            reps[rep] = aggregates(events, config)
        full = score_reps(config, reps, [*reps, 999])
        totals = score_reps(config, reps, [*reps, 999], signals=False)
        for rep, score in full.items():
            assert totals[rep].signals == ()
            assert (totals[rep].ssi, totals[rep].pillars) == (score.ssi, score.pillars)
            assert math.copysign(1, totals[rep].ssi) == math.copysign(1, score.ssi)


# --- explanations ------------------------------------------------------------------------------


def test_signal_points_and_gain_follow_the_formulas() -> None:
    by_key = results_by_key(score_rep(DEFAULT, aggregates(ANN)))
    posts = by_key["posts"]
    assert (posts.pillar, posts.kind, posts.weight) == ("brand", "count", 2)
    assert posts.points == pytest.approx(0.78125, abs=1e-9)  # 25 * 2 * 0.125 / 8
    assert posts.gain == pytest.approx(5.46875, abs=1e-9)  # 25 * 2 * (1 - 0.125) / 8
    active = by_key["active_days"]
    assert active.points == pytest.approx(25 / 24, abs=1e-9)  # 25 * 3 * (5/45) / 8
    assert active.gain == pytest.approx(25 / 3, abs=1e-9)  # 25 * 3 * (40/45) / 8
    searches = by_key["searches"]
    assert searches.points == pytest.approx(6.25, abs=1e-9)  # 25 * 2 * 1 / 8
    assert searches.gain == 0  # 25 * 2 * (1 - 1) / 8


def test_ratio_results_carry_numerator_and_denominator() -> None:
    by_key = results_by_key(score_rep(DEFAULT, aggregates(ANN)))
    rate = by_key["response_rate"]
    assert (rate.kind, rate.num, rate.den) == ("ratio", 4, 10)
    assert rate.x == pytest.approx(0.4, abs=1e-9)  # 4 / 10
    assert rate.points == pytest.approx(25 / 9, abs=1e-9)  # 25 * 2 * 0.5 / 9
    assert rate.gain == pytest.approx(25 / 9, abs=1e-9)  # 25 * 2 * (1 - 0.5) / 9
    assert by_key["posts"].num is None and by_key["posts"].den is None


def test_signal_points_add_up_to_their_pillar() -> None:
    score = score_rep(DEFAULT, aggregates(ANN))
    for pillar, value in score.pillars.items():
        points = sum(r.points for r in score.signals if r.pillar == pillar)
        assert points == pytest.approx(value, abs=1e-9)
        gains = sum(r.gain for r in score.signals if r.pillar == pillar)
        assert points + gains == pytest.approx(25, abs=1e-9)  # points + gain = max_points


# --- recommendations ------------------------------------------------------------------------------


def test_recommendations_are_the_three_largest_gains() -> None:
    recs = recommendations(DEFAULT, score_rep(DEFAULT, aggregates(ANN)))
    assert [(r.pillar, r.key) for r in recs] == [
        ("find", "active_days"),
        ("relationships", "decision_makers"),
        ("engage", "comments"),  # ties with shares (50/9): comments comes first in engage
    ]
    assert recs[0].gain == pytest.approx(25 / 3, abs=1e-9)  # 25 * 3 * (1 - 5/45) / 8 = 8.333...
    assert recs[1].gain == pytest.approx(95 / 12, abs=1e-9)  # 25 * 2 * (1 - 0.05) / 6 = 7.91666...
    assert recs[2].gain == pytest.approx(50 / 9, abs=1e-9)  # 25 * 2 * (1 - 0) / 9 = 5.5555...
    # next would be shares 50/9, then posts 25 * 2 * 0.875 / 8 = 5.46875


def test_recommendation_ties_go_to_pillar_order_then_signal_order() -> None:
    recs = recommendations(DEFAULT, score_rep(DEFAULT, EMPTY), limit=5)
    assert [(r.pillar, r.key, r.gain) for r in recs] == [
        ("brand", "profile_completeness", pytest.approx(9.375, abs=1e-9)),  # 25 * 3 / 8
        ("find", "active_days", pytest.approx(9.375, abs=1e-9)),  # 25 * 3 / 8: tie, brand first
        ("relationships", "connections", pytest.approx(25 / 3, abs=1e-9)),  # 25 * 2 / 6
        ("relationships", "acceptance_rate", pytest.approx(25 / 3, abs=1e-9)),  # tie: signal order
        ("relationships", "decision_makers", pytest.approx(25 / 3, abs=1e-9)),
    ]
    assert len(recommendations(DEFAULT, score_rep(DEFAULT, EMPTY))) == 3


def test_recommendation_ties_follow_pillar_order_whatever_the_json_order() -> None:
    def reverse(data: dict[str, Any]) -> None:
        data["pillars"] = dict(reversed(list(data["pillars"].items())))

    config = config_from(reverse)
    recs = recommendations(config, score_rep(config, EMPTY))
    assert [r.key for r in recs] == ["profile_completeness", "active_days", "connections"]


def test_recommendation_ties_follow_signal_order_in_the_config() -> None:
    def swap(data: dict[str, Any]) -> None:
        signals = data["pillars"]["relationships"]["signals"]
        signals[0], signals[2] = signals[2], signals[0]

    config = config_from(swap)
    recs = recommendations(config, score_rep(config, EMPTY), limit=5)
    assert [r.key for r in recs[2:]] == ["decision_makers", "acceptance_rate", "connections"]


def test_recommendations_use_default_tips() -> None:
    recs = recommendations(DEFAULT, score_rep(DEFAULT, aggregates(ANN)))
    assert [r.tip for r in recs] == [
        DEFAULT_TIPS["active_days"],
        DEFAULT_TIPS["decision_makers"],
        DEFAULT_TIPS["comments"],
    ]


def test_every_default_signal_has_a_default_tip() -> None:
    assert {s.key for _, s in DEFAULT.signals} <= set(DEFAULT_TIPS)
    assert all(DEFAULT_TIPS[s.key].strip() for _, s in DEFAULT.signals)


def test_a_tip_in_the_config_overrides_the_default() -> None:
    config = config_from(lambda data: data["pillars"]["brand"]["signals"][0].update(tip="Add a photo."))
    recs = recommendations(config, score_rep(config, EMPTY))
    assert [(r.key, r.tip) for r in recs] == [
        ("profile_completeness", "Add a photo."),
        ("active_days", DEFAULT_TIPS["active_days"]),
        ("connections", DEFAULT_TIPS["connections"]),
    ]


def test_a_custom_signal_without_a_tip_still_gets_a_tip() -> None:
    def add(data: dict[str, Any]) -> None:
        data["custom_event_types"] = [{"name": "webinar_hosted", "xp": 10}]
        data["pillars"]["brand"]["signals"] = [
            {"key": "webinars", "kind": "count", "types": ["webinar_hosted"], "target": 4, "weight": 1}
        ]
        data["pillars"]["brand"]["max_points"] = 40
        data["pillars"]["find"]["max_points"] = 10

    config = config_from(add)
    recs = recommendations(config, score_rep(config, EMPTY))
    assert recs[0].key == "webinars"
    assert recs[0].gain == pytest.approx(40, abs=1e-9)  # 40 * 1 * (1 - 0) / 1
    assert recs[0].tip.strip()


def test_recommendation_ties_survive_floating_point_noise() -> None:
    def change(data: dict[str, Any]) -> None:
        data["pillars"]["brand"]["signals"] = [
            {"key": "posts", "kind": "count", "types": ["post_published"], "target": 10, "weight": 2},
            {"key": "articles", "kind": "count", "types": ["article_published"], "target": 10, "weight": 2},
        ]
        data["pillars"]["find"]["signals"] = [
            {"key": "searches", "kind": "count", "types": ["people_search"], "target": 10, "weight": 1}
        ]

    config = config_from(change)
    events = [ev("post_published", 0, value=4), ev("people_search", 0, value=7)]
    recs = recommendations(config, score_rep(config, aggregates(events, config)), limit=20)
    gains = {r.key: r.gain for r in recs}
    assert gains["posts"] == pytest.approx(7.5, abs=1e-9)  # 25 * 2 * (1 - 4/10) / 4
    assert gains["searches"] == pytest.approx(7.5, abs=1e-9)  # 25 * 1 * (1 - 7/10) / 1
    keys = [r.key for r in recs]
    assert keys.index("posts") < keys.index("searches")  # a tie: brand comes before find
