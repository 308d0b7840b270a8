"""The pure rules of badges and goals: ``gamification.rules.criteria`` and ``gamification.rules.goals``.

No database: criteria trees are parsed and evaluated against a dict of metric values, goal
states are computed from plain numbers and dates. Every expected value is worked out by hand
from docs/gamification.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gamification.rules.criteria import (
    MAX_CONDITIONS,
    MAX_WINDOWS,
    CriteriaError,
    Group,
    Leaf,
    MetricRef,
    evaluate,
    is_ingest_time,
    metrics_needed,
    parse_criteria,
    to_dict,
)
from gamification.rules.goals import aggregate, goal_state, progress
from gamification.services.badges import DEFAULT_BADGES
from scoring.engine import EVENT_TYPES

TYPES = frozenset(EVENT_TYPES)


def parse(data: Any) -> Any:
    return parse_criteria(data, known_types=TYPES)


def leaf(metric: str, op: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "op": op, "value": value, **extra}


def check(data: Any, values: dict[str, float | None]) -> bool:
    """Evaluate ``data`` with ``values`` keyed by metric name (window ignored)."""
    return evaluate(parse(data), lambda ref: values.get(ref.name))


def refused(data: Any) -> CriteriaError:
    with pytest.raises(CriteriaError) as info:
        parse(data)
    return info.value


# --- operators at the boundary ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "below", "at", "above"),
    [
        (">=", False, True, True),
        (">", False, False, True),
        ("<=", True, True, False),
        ("<", True, False, False),
        ("==", False, True, False),
    ],
)
def test_every_operator_is_exact_at_the_boundary(op: str, below: bool, at: bool, above: bool) -> None:
    criteria = leaf("xp", op, 100)
    assert check(criteria, {"xp": 99.99}) is below
    assert check(criteria, {"xp": 100.0}) is at
    assert check(criteria, {"xp": 100.01}) is above


def test_a_float_value_compares_as_a_number() -> None:
    assert check(leaf("ssi", ">=", 70.5), {"ssi": 70.5}) is True
    assert check(leaf("ssi", ">=", 70.5), {"ssi": 70.49}) is False


# --- groups -------------------------------------------------------------------------------------------


def test_all_needs_every_condition_and_any_needs_one() -> None:
    both = [leaf("xp", ">=", 100), leaf("level", ">=", 3)]
    assert check({"all": both}, {"xp": 100, "level": 3}) is True
    assert check({"all": both}, {"xp": 100, "level": 2}) is False
    assert check({"any": both}, {"xp": 100, "level": 2}) is True
    assert check({"any": both}, {"xp": 99, "level": 2}) is False


def test_nested_groups_combine_as_written() -> None:
    # ssi >= 70 AND (a post in the window OR 3 articles)
    criteria = {
        "all": [
            leaf("ssi", ">=", 70),
            {"any": [leaf("events.post_published", ">=", 1), leaf("events.article_published", ">=", 3)]},
        ]
    }
    assert check(criteria, {"ssi": 71, "events.post_published": 0, "events.article_published": 3}) is True
    assert check(criteria, {"ssi": 71, "events.post_published": 1, "events.article_published": 0}) is True
    assert check(criteria, {"ssi": 71, "events.post_published": 0, "events.article_published": 2}) is False
    assert check(criteria, {"ssi": 69, "events.post_published": 5, "events.article_published": 5}) is False


def test_a_tree_of_depth_5_is_accepted() -> None:
    tree: dict[str, Any] = leaf("xp", ">=", 1)
    for _ in range(4):  # 4 groups around a leaf: 5 levels
        tree = {"all": [tree]}
    assert check(tree, {"xp": 1}) is True


# --- missing values -----------------------------------------------------------------------------------


def test_a_metric_without_a_value_makes_its_leaf_false_whatever_the_operator() -> None:
    for op in (">=", ">", "<=", "<", "=="):
        assert check(leaf("ssi", op, 0), {"ssi": None}) is False, op


def test_an_unranked_rep_is_never_in_the_top_10_percent() -> None:
    top10 = leaf("rank.top_percent", "<=", 10)
    assert check(top10, {"rank.top_percent": None}) is False
    assert check(top10, {"rank.top_percent": 10}) is True
    assert check(top10, {"rank.top_percent": 11}) is False


def test_a_missing_value_fails_all_but_not_a_satisfied_any() -> None:
    children = [leaf("ssi", ">=", 70), leaf("xp", ">=", 100)]
    assert check({"all": children}, {"ssi": None, "xp": 500}) is False
    assert check({"any": children}, {"ssi": None, "xp": 500}) is True


# --- parsing ------------------------------------------------------------------------------------------


def test_a_parsed_tree_keeps_metrics_windows_and_values() -> None:
    criteria = parse(
        {
            "any": [
                leaf("events.post_published", ">=", 8, window_days=30),
                leaf("state.profile_updated", "==", 100),
            ]
        }
    )
    assert criteria == Group(
        "any",
        (
            Leaf(MetricRef("events.post_published", 30), ">=", 8.0),
            Leaf(MetricRef("state.profile_updated"), "==", 100.0),
        ),
    )
    assert metrics_needed(criteria) == {
        MetricRef("events.post_published", 30),
        MetricRef("state.profile_updated"),
    }
    assert MetricRef("sum.follower_gained").type == "follower_gained"
    assert MetricRef("ssi").type is None


def test_to_dict_writes_the_tree_back_as_it_was_given() -> None:
    data = {"all": [leaf("events.post_published", ">=", 8, window_days=30), leaf("ssi", ">", 70.5)]}
    assert to_dict(parse(data)) == data


@pytest.mark.parametrize(
    "metric",
    [
        "ssi",
        "pillar.brand",
        "pillar.find",
        "pillar.engage",
        "pillar.relationships",
        "rank.top_percent",
        "rank.team_top_percent",
        "streak.current",
        "streak.longest",
        "xp",
        "level",
        "badges",
        "goals.achieved",
        "events.post_published",
        "sum.follower_gained",
        "state.profile_updated",
    ],
)
def test_every_metric_of_the_language_is_accepted(metric: str) -> None:
    assert parse(leaf(metric, ">=", 1)) == Leaf(MetricRef(metric), ">=", 1.0)


def test_a_custom_type_of_the_config_is_a_known_metric() -> None:
    data = leaf("events.webinar_hosted", ">=", 1)
    assert refused(data).path == "criteria.metric"
    parsed = parse_criteria(data, known_types=TYPES | {"webinar_hosted"})
    assert parsed == Leaf(MetricRef("events.webinar_hosted"), ">=", 1.0)


# --- invalid trees name the path ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "path", "code"),
    [
        (leaf("karma", ">=", 1), "criteria.metric", "unknown_metric"),
        (leaf("events.tweet_sent", ">=", 1), "criteria.metric", "unknown_metric"),
        (leaf("pillar.charm", ">=", 1), "criteria.metric", "unknown_metric"),
        ({"all": [leaf("xp", ">=", 1), leaf("xp", "=>", 1)]}, "criteria.all.1.op", "invalid_choice"),
        ({"any": [leaf("xp", "!=", 1)]}, "criteria.any.0.op", "invalid_choice"),
        (leaf("xp", ">=", "5"), "criteria.value", "invalid_type"),
        (leaf("xp", ">=", True), "criteria.value", "invalid_type"),
        (leaf("xp", ">=", None), "criteria.value", "invalid_type"),
        (leaf("xp", ">=", float("nan")), "criteria.value", "invalid_type"),
        ({"all": [{"any": [leaf("xp", ">=", False)]}]}, "criteria.all.0.any.0.value", "invalid_type"),
        (leaf("ssi", ">=", 70, window_days=30), "criteria.window_days", "invalid"),
        (leaf("state.profile_updated", ">=", 1, window_days=7), "criteria.window_days", "invalid"),
        (leaf("events.post_published", ">=", 1, window_days=0), "criteria.window_days", "invalid"),
        (leaf("events.post_published", ">=", 1, window_days=True), "criteria.window_days", "invalid"),
        (leaf("events.post_published", ">=", 1, window_days=1.5), "criteria.window_days", "invalid"),
        ({"all": []}, "criteria.all", "invalid_type"),
        ({"any": "xp"}, "criteria.any", "invalid_type"),
        ({**leaf("xp", ">=", 1), "weight": 2}, "criteria.weight", "unknown_field"),
        ({"all": [leaf("xp", ">=", 1)], "any": [leaf("xp", ">=", 1)]}, "criteria.any", "unknown_field"),
        ({"metric": "xp", "op": ">="}, "criteria.value", "required"),
        ({"all": [{"op": ">=", "value": 1}]}, "criteria.all.0.metric", "required"),
        ([leaf("xp", ">=", 1)], "criteria", "invalid_type"),
        ({"all": [leaf("xp", ">=", 1), 7]}, "criteria.all.1", "invalid_type"),
    ],
)
def test_an_invalid_tree_is_refused_naming_the_path(data: Any, path: str, code: str) -> None:
    error = refused(data)
    assert (error.path, error.code) == (path, code)


def test_a_tree_deeper_than_5_is_refused_at_the_sixth_level() -> None:
    tree: dict[str, Any] = leaf("xp", ">=", 1)
    for _ in range(5):  # 5 groups around a leaf: 6 levels
        tree = {"all": [tree]}
    error = refused(tree)
    assert error.code == "too_deep"
    assert error.path == "criteria.all.0.all.0.all.0.all.0.all.0"


# --- the size of a tree ------------------------------------------------------------------------------


def windowed(count: int, windows: int) -> list[dict[str, Any]]:
    """``count`` conditions on posts over ``windows`` different windows (1, 2, …), in turn."""
    return [leaf("events.post_published", ">=", 1, window_days=1 + i % windows) for i in range(count)]


def test_a_tree_at_the_bounds_is_accepted() -> None:
    """20 conditions over 8 windows, in nested groups; other metrics take no window."""
    tree = {"any": [{"all": windowed(10, MAX_WINDOWS)}, {"all": [*windowed(9, 4), leaf("xp", ">=", 5)]}]}
    parsed = parse(tree)
    assert sum(1 for _ in leaves_of(parsed)) == MAX_CONDITIONS
    windows = {ref.window_days for ref in metrics_needed(parsed)} - {None}
    assert len(windows) == MAX_WINDOWS


def leaves_of(criteria: Any) -> Any:
    from gamification.rules.criteria import leaves

    return leaves(criteria)


@pytest.mark.parametrize(
    "tree",
    [
        {"all": windowed(MAX_CONDITIONS + 1, 1)},
        {"any": [{"all": windowed(7, 1)}, {"all": windowed(7, 1)}, {"all": windowed(7, 1)}]},
        {"any": [{"all": windowed(50, 1)} for _ in range(50)]},
    ],
    ids=["one-list", "nested", "50x50"],
)
def test_more_conditions_in_all_than_the_bound_are_refused_naming_the_tree(tree: Any) -> None:
    error = refused(tree)
    assert (error.path, error.code) == ("criteria", "too_many_conditions")


def test_the_outside_probes_badge_is_refused_naming_the_tree() -> None:
    """50 `any` branches of 50 conditions, each with its own window: it once passed validation and
    then made every evaluation's query too wide for PostgreSQL."""
    error = refused({"any": [{"all": windowed(50, 2500)[50 * i : 50 * (i + 1)]} for i in range(50)]})
    assert error.path == "criteria"
    assert error.code in ("too_many_conditions", "too_many_windows")


def test_more_different_windows_than_the_bound_are_refused_naming_the_tree() -> None:
    error = refused({"all": windowed(MAX_WINDOWS + 1, MAX_WINDOWS + 1)})
    assert (error.path, error.code) == ("criteria", "too_many_windows")


def test_the_same_window_many_times_counts_once() -> None:
    assert parse({"all": windowed(MAX_CONDITIONS, 1)})


def test_a_stored_tree_is_read_as_it_was_saved_whatever_its_size() -> None:
    """A badge saved before the bounds keeps being evaluated."""
    tree = {"any": [{"all": windowed(50, 50)} for _ in range(50)]}
    parsed = parse_criteria(tree, known_types=TYPES, stored=True)
    assert len(metrics_needed(parsed)) == 50


# --- ingest-time or nightly ---------------------------------------------------------------------------


DEFAULTS = {spec["slug"]: spec for spec in DEFAULT_BADGES}


@pytest.mark.parametrize(
    ("slug", "ingest_time"),
    [
        ("first-post", True),
        ("all-star-profile", True),
        ("on-fire", True),
        ("unstoppable", True),
        ("thought-leader", True),
        ("networker", True),
        ("social-seller", False),
        ("elite-seller", False),
        ("top-10", False),
    ],
)
def test_a_default_badge_is_ingest_time_exactly_when_its_metrics_change_at_ingestion(
    slug: str, ingest_time: bool
) -> None:
    assert is_ingest_time(parse(DEFAULTS[slug]["criteria"])) is ingest_time


def test_the_defaults_are_the_nine_badges_of_the_spec() -> None:
    assert set(DEFAULTS) == {
        "first-post", "all-star-profile", "social-seller", "elite-seller", "on-fire", "unstoppable",
        "thought-leader", "top-10", "networker",
    }  # fmt: skip


def test_one_nightly_metric_makes_a_whole_tree_nightly() -> None:
    assert is_ingest_time(parse({"all": [leaf("xp", ">=", 1), leaf("level", ">=", 2)]})) is True
    assert is_ingest_time(parse({"any": [leaf("xp", ">=", 1), leaf("ssi", ">=", 70)]})) is False
    assert is_ingest_time(parse(leaf("badges", ">=", 3))) is False
    assert is_ingest_time(parse(leaf("goals.achieved", ">=", 1))) is False


# --- goals: aggregate ---------------------------------------------------------------------------------


def test_team_aggregates_are_avg_sum_and_min() -> None:
    values = [2.0, 4.0, 9.0]
    assert aggregate(values, "avg") == 5.0  # (2 + 4 + 9) / 3
    assert aggregate(values, "sum") == 15.0
    assert aggregate(values, "min") == 2.0


def test_a_team_without_reps_has_no_current_value() -> None:
    for how in ("avg", "sum", "min"):
        assert aggregate([], how) is None


def test_an_unknown_aggregate_is_an_error() -> None:
    with pytest.raises(ValueError, match="median"):
        aggregate([1.0], "median")


# --- goals: progress ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        (0.0, 10.0, 0.0),
        (3.0, 12.0, 0.25),
        (10.0, 10.0, 1.0),
        (25.0, 10.0, 1.0),  # capped at 1
        (None, 10.0, 0.0),  # no value yet
        (-5.0, 10.0, 0.0),
    ],
)
def test_progress_is_current_over_target_capped_at_1(
    current: float | None, target: float, expected: float
) -> None:
    assert progress(current, target) == expected


# --- goals: status transitions ------------------------------------------------------------------------

START, END = date(2026, 3, 1), date(2026, 3, 31)


def state(status: str, current: float | None, today: date, target: float = 10.0) -> Any:
    return goal_state(status=status, current=current, target=target, start=START, end=END, today=today)


@pytest.mark.parametrize("today", [START, date(2026, 3, 15), END])
def test_a_goal_is_achieved_when_current_reaches_target_within_the_period(today: date) -> None:
    got = state("active", 10.0, today)
    assert (got.status, got.transition, got.progress) == ("achieved", "goal.achieved", 1.0)


def test_a_goal_below_target_within_the_period_stays_active() -> None:
    got = state("active", 9.0, date(2026, 3, 15))
    assert (got.status, got.transition, got.progress) == ("active", None, 0.9)


def test_a_goal_is_not_achieved_before_its_period() -> None:
    got = state("active", 50.0, date(2026, 2, 28))
    assert (got.status, got.transition) == ("active", None)


def test_a_goal_is_missed_only_after_its_end_date() -> None:
    assert state("active", 3.0, END).status == "active"
    got = state("active", 3.0, date(2026, 4, 1))
    assert (got.status, got.transition, got.progress) == ("missed", "goal.missed", 0.3)


def test_a_goal_without_a_value_after_its_end_date_is_missed() -> None:
    got = state("active", None, date(2026, 4, 1))
    assert (got.status, got.transition, got.progress) == ("missed", "goal.missed", 0.0)


def test_an_achieved_goal_never_changes_back() -> None:
    for current, today in [(0.0, date(2026, 3, 15)), (0.0, date(2026, 5, 1)), (99.0, date(2026, 5, 1))]:
        got = state("achieved", current, today)
        assert (got.status, got.transition) == ("achieved", None)


def test_a_missed_goal_never_changes_back_even_above_target() -> None:
    for today in (date(2026, 3, 15), date(2026, 4, 2)):
        got = state("missed", 40.0, today)
        assert (got.status, got.transition, got.progress) == ("missed", None, 1.0)


def test_a_null_window_is_refused_in_new_criteria_and_read_as_none_in_a_stored_tree() -> None:
    leaf = {"metric": "events.post_published", "op": ">=", "value": 1, "window_days": None}
    with pytest.raises(CriteriaError) as error:
        parse({"all": [leaf]})
    assert (error.value.path, error.value.code) == ("criteria.all.0.window_days", "invalid")
    stored = parse_criteria(leaf, known_types=TYPES, stored=True)
    assert metrics_needed(stored) == {MetricRef("events.post_published", None)}
