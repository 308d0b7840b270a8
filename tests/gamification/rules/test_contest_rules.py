"""The pure contest rules (gamification.rules.contests; docs/contests.md#standings), by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gamification.rules.contests import (
    Entry,
    Metric,
    metric_parse,
    race_reached_at,
    rank_by_value,
    rank_race,
    sole_leader,
    team_value,
)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


def ranks(rows: list) -> list[tuple[object, int, float]]:
    return [(r.key, r.rank, r.value) for r in rows]


def test_equal_rounded_values_share_a_rank_and_the_next_rank_skips() -> None:
    rows = rank_by_value([Entry("a", 5.0), Entry("b", 7.004), Entry("c", 7.0), Entry("d", 3.0)])
    # 7.004 and 7.0 both round to 7.00: they tie at 1; 5 is third, 3 fourth.
    assert ranks(rows) == [("b", 1, 7.0), ("c", 1, 7.0), ("a", 3, 5.0), ("d", 4, 3.0)]


def test_values_round_half_away_from_zero_before_they_are_compared() -> None:
    rows = rank_by_value([Entry("a", 2.675), Entry("b", 2.68), Entry("c", -1.005)])
    assert ranks(rows) == [("a", 1, 2.68), ("b", 1, 2.68), ("c", 3, -1.01)]


def test_a_race_ranks_reachers_by_time_then_the_others_by_value() -> None:
    rows = rank_race(
        [
            Entry("slow", 12.0, at(15)),
            Entry("fast", 10.0, at(9)),
            Entry("near", 9.0),
            Entry("tie", 11.0, at(15)),
            Entry("far", 2.0),
            Entry("near2", 9.0),
        ]
    )
    assert [(r.key, r.rank) for r in rows] == [
        ("fast", 1),
        ("slow", 2),
        ("tie", 2),  # the same reached_at shares a rank, whatever the values
        ("near", 4),
        ("near2", 4),
        ("far", 6),
    ]
    assert rows[0].reached_at == at(9) and rows[3].reached_at is None


def test_a_race_nobody_reached_is_a_leaderboard() -> None:
    rows = rank_race([Entry("a", 1.0), Entry("b", 3.0)])
    assert ranks(rows) == [("b", 1, 3.0), ("a", 2, 1.0)]


def test_reached_at_is_the_step_that_first_brings_the_running_value_to_the_target() -> None:
    steps = [(at(9), 2.0), (at(10), 2.0), (at(11), 1.0), (at(12), 5.0)]
    assert race_reached_at(steps, 0.0, 5.0) == at(11)  # 2, 4, 5: reached at 11:00
    assert race_reached_at(steps, 1.0, 5.0) == at(10)  # starting from 1: 3, 5
    assert race_reached_at(steps, 0.0, 11.0) is None  # 10 at most


def test_reached_at_compares_rounded_values() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in binary; 0.1 * 3 steps reach 0.3 exactly when rounded.
    assert race_reached_at([(at(9), 0.1), (at(10), 0.1), (at(11), 0.1)], 0.0, 0.3) == at(11)
    assert race_reached_at([(at(9), 0.294)], 0.0, 0.3) is None  # 0.29


def test_a_teams_value_is_the_average_or_sum_of_its_members_and_0_without_members() -> None:
    assert team_value([3.0, 4.0, 8.0], "avg") == 5.0
    assert team_value([3.0, 4.0, 8.0], "sum") == 15.0
    assert team_value([], "avg") == 0.0
    assert team_value([], "sum") == 0.0


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("events.post_published", Metric("events", "post_published")),
        ("sum.deal_won", Metric("sum", "deal_won")),
        ("xp", Metric("xp", "")),
        ("ssi.gain", Metric("gain", "ssi")),
        ("pillar.engage.gain", Metric("gain", "engage")),
        ("pillar.relationships.gain", Metric("gain", "relationships")),
        ("ssi", None),
        ("pillar.engage", None),
        ("pillar.other.gain", None),
        ("events.", None),
        ("events.Post", None),
        ("streak.current", None),
        (3, None),
    ],
)
def test_only_the_contest_metrics_parse(text: object, metric: Metric | None) -> None:
    assert metric_parse(text) == metric


def test_the_leader_is_the_one_row_at_rank_1_and_none_while_the_lead_is_shared() -> None:
    shared = rank_by_value([Entry("a", 3.0), Entry("b", 5.0), Entry("c", 5.004)])
    assert [r.key for r in shared if r.rank == 1] == ["b", "c"]  # 5.00 both: shared
    assert sole_leader(shared) is None
    leader = sole_leader(rank_by_value([Entry("a", 3.0), Entry("b", 5.0)]))
    assert leader is not None and (leader.key, leader.value) == ("b", 5.0)
    assert sole_leader(rank_by_value([])) is None
