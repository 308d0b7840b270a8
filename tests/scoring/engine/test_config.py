"""The scoring config: the default, its round trip, and every validation rule of docs/scoring.md."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scoring.engine import DEFAULT, DEFAULT_CONFIG, ConfigError, parse_config


def default_dict() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_CONFIG)


def refused_path(data: Any) -> str:
    with pytest.raises(ConfigError) as excinfo:
        parse_config(data)
    return excinfo.value.path


# The spec's "Default config" table, row by row: (pillar, key, kind, types, target, weight).
SPEC_TABLE = [
    ("brand", "profile_completeness", "state", ("profile_updated",), 100, 3),
    ("brand", "posts", "count", ("post_published",), 12, 2),
    ("brand", "articles", "count", ("article_published",), 2, 1),
    ("brand", "endorsements", "count", ("endorsement_received", "recommendation_received"), 10, 1),
    ("brand", "followers", "count", ("follower_gained",), 50, 1),
    ("find", "searches", "count", ("people_search",), 30, 2),
    ("find", "profile_views", "count", ("profile_viewed",), 60, 2),
    ("find", "leads_saved", "count", ("lead_saved",), 20, 1),
    ("find", "active_days", "active_days", (), 45, 3),
    ("engage", "reactions", "count", ("post_liked",), 60, 1),
    ("engage", "comments", "count", ("post_commented",), 20, 2),
    ("engage", "shares", "count", ("post_shared",), 10, 2),
    ("engage", "messages", "count", ("message_sent",), 40, 1),
    ("engage", "response_rate", "ratio", (("message_replied",), ("message_received",)), 0.8, 2),
    ("engage", "groups", "count", ("group_joined",), 3, 1),
    ("relationships", "connections", "state", ("connections_synced",), 500, 2),
    (
        "relationships",
        "acceptance_rate",
        "ratio",
        (("connection_request_accepted",), ("connection_request_sent",)),
        0.6,
        2,
    ),
    ("relationships", "decision_makers", "count", ("decision_maker_connected",), 20, 2),
]


# --- the default ----------------------------------------------------------------------


def test_the_default_config_is_the_spec_table() -> None:
    assert DEFAULT.window_days == 90
    assert DEFAULT.half_life_days == 30
    assert DEFAULT.custom_event_types == ()
    assert [p.key for p in DEFAULT.pillars] == ["brand", "find", "engage", "relationships"]
    assert [p.max_points for p in DEFAULT.pillars] == [25, 25, 25, 25]
    rows = []
    for pillar, signal in DEFAULT.signals:
        types: Any = (signal.numerator, signal.denominator) if signal.kind == "ratio" else signal.types
        rows.append((pillar.key, signal.key, signal.kind, types, signal.target, signal.weight))
    assert rows == SPEC_TABLE


def test_the_default_ratios_have_min_denominator_one() -> None:
    ratios = {s.key: s.min_denominator for _, s in DEFAULT.signals if s.kind == "ratio"}
    assert ratios == {"response_rate": 1, "acceptance_rate": 1}


def test_the_default_config_round_trips_through_its_json() -> None:
    assert parse_config(DEFAULT.to_dict()) == DEFAULT


def test_the_default_json_is_the_documented_json() -> None:
    assert DEFAULT.to_dict() == DEFAULT_CONFIG


def test_a_config_with_custom_types_and_tips_round_trips() -> None:
    data = default_dict()
    data["custom_event_types"] = [{"name": "webinar_hosted", "xp": 10}]
    data["half_life_days"] = None
    data["pillars"]["brand"]["signals"].append(
        {"key": "webinars", "kind": "count", "types": ["webinar_hosted"], "target": 4, "weight": 1.5}
    )
    data["pillars"]["brand"]["signals"][1]["tip"] = "Post twice a week."
    config = parse_config(data)
    assert parse_config(config.to_dict()) == config
    assert config.to_dict() == data


# --- window_days and half_life_days ---------------------------------------------------


@pytest.mark.parametrize("window", [6, 366, 0, -7])
def test_a_window_outside_7_to_365_days_is_refused(window: int) -> None:
    data = default_dict()
    data["window_days"] = window
    assert refused_path(data) == "window_days"


@pytest.mark.parametrize("window", [7, 365])
def test_a_window_of_7_or_365_days_is_accepted(window: int) -> None:
    data = default_dict()
    data["window_days"] = window
    assert parse_config(data).window_days == window


def test_a_fractional_window_is_refused() -> None:
    data = default_dict()
    data["window_days"] = 30.5
    assert refused_path(data) == "window_days"


def test_a_null_half_life_is_accepted_and_means_no_decay() -> None:
    data = default_dict()
    data["half_life_days"] = None
    config = parse_config(data)
    assert config.half_life_days is None
    assert config.decay(60) == 1.0  # no decay at any age


@pytest.mark.parametrize("half_life", [1, 365])
def test_a_half_life_of_1_or_365_days_is_accepted(half_life: int) -> None:
    data = default_dict()
    data["half_life_days"] = half_life
    assert parse_config(data).half_life_days == half_life


@pytest.mark.parametrize("half_life", [0, 366, -30])
def test_a_half_life_outside_1_to_365_days_is_refused(half_life: int) -> None:
    data = default_dict()
    data["half_life_days"] = half_life
    assert refused_path(data) == "half_life_days"


@pytest.mark.parametrize("field", ["window_days", "half_life_days", "pillars"])
def test_a_missing_top_level_field_is_refused(field: str) -> None:
    data = default_dict()
    del data[field]
    assert refused_path(data) == field


# --- pillars ---------------------------------------------------------------------------


def test_max_points_that_do_not_add_up_to_100_are_refused() -> None:
    data = default_dict()
    data["pillars"]["brand"]["max_points"] = 30  # 30 + 25 + 25 + 25 = 105
    with pytest.raises(ConfigError) as excinfo:
        parse_config(data)
    assert excinfo.value.path == "pillars"
    assert "100" in excinfo.value.message


def test_max_points_that_add_up_to_100_are_accepted() -> None:
    data = default_dict()
    for key, points in {"brand": 40, "find": 20, "engage": 20, "relationships": 20}.items():
        data["pillars"][key]["max_points"] = points
    config = parse_config(data)
    assert [p.max_points for p in config.pillars] == [40, 20, 20, 20]


def test_a_pillar_with_no_signals_is_refused() -> None:
    data = default_dict()
    data["pillars"]["find"]["signals"] = []
    assert refused_path(data) == "pillars.find.signals"


def test_a_missing_pillar_is_refused() -> None:
    data = default_dict()
    del data["pillars"]["relationships"]
    assert refused_path(data) == "pillars.relationships"


def test_an_unknown_pillar_is_refused() -> None:
    data = default_dict()
    data["pillars"]["fun"] = {"max_points": 0, "signals": []}
    assert refused_path(data) == "pillars.fun"


def test_a_signal_may_be_removed_while_the_pillar_keeps_one() -> None:
    data = default_dict()
    data["pillars"]["find"]["signals"] = data["pillars"]["find"]["signals"][3:]  # only active_days left
    config = parse_config(data)
    assert [s.key for s in config.pillars[1].signals] == ["active_days"]


def with_signals(pillar: str, count: int) -> dict[str, Any]:
    """The default config with ``count`` count signals in ``pillar`` (keys ``s0``, ``s1``, …)."""
    data = default_dict()
    data["pillars"][pillar]["signals"] = [
        {"key": f"s{i}", "kind": "count", "types": ["post_published"], "target": 1, "weight": 1}
        for i in range(count)
    ]
    return data


def test_every_pillar_may_hold_12_signals() -> None:
    data = default_dict()
    for pillar in data["pillars"]:
        data["pillars"][pillar]["signals"] = with_signals(pillar, 12)["pillars"][pillar]["signals"]
        for signal in data["pillars"][pillar]["signals"]:
            signal["key"] = f"{pillar}_{signal['key']}"
    assert [len(p.signals) for p in parse_config(data).pillars] == [12, 12, 12, 12]


def test_a_13th_signal_in_a_pillar_is_refused() -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_config(with_signals("engage", 13))
    assert (excinfo.value.path, excinfo.value.code) == ("pillars.engage.signals", "too_many")


def test_a_stored_version_is_read_under_the_bound_it_was_saved_with() -> None:
    """50 signals a pillar were allowed once: a version saved then keeps scoring."""
    assert len(parse_config(with_signals("find", 50), stored=True).pillars[1].signals) == 50
    with pytest.raises(ConfigError):
        parse_config(with_signals("find", 51), stored=True)


# --- signals ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", [0, -1, -0.5])
def test_a_target_of_zero_or_below_is_refused(target: float) -> None:
    data = default_dict()
    data["pillars"]["brand"]["signals"][1]["target"] = target
    assert refused_path(data) == "pillars.brand.signals.1.target"


@pytest.mark.parametrize("target", ["abc", True, None, [12]])
def test_a_target_that_is_not_a_number_is_refused(target: Any) -> None:
    data = default_dict()
    data["pillars"]["brand"]["signals"][1]["target"] = target
    with pytest.raises(ConfigError) as excinfo:
        parse_config(data)
    assert excinfo.value.path == "pillars.brand.signals.1.target"
    assert excinfo.value.code == "invalid_type"


def test_a_fractional_target_is_accepted() -> None:
    data = default_dict()
    data["pillars"]["engage"]["signals"][4]["target"] = 0.75
    assert parse_config(data).pillars[2].signals[4].target == 0.75


@pytest.mark.parametrize("weight", [0, -2])
def test_a_weight_of_zero_or_below_is_refused(weight: float) -> None:
    data = default_dict()
    data["pillars"]["engage"]["signals"][2]["weight"] = weight
    assert refused_path(data) == "pillars.engage.signals.2.weight"


def test_a_signal_key_used_in_two_pillars_is_refused() -> None:
    data = default_dict()
    data["pillars"]["find"]["signals"][0]["key"] = "posts"  # brand.signals.1 is already "posts"
    assert refused_path(data) == "pillars.find.signals.0.key"


def test_an_unknown_event_type_in_types_is_refused() -> None:
    data = default_dict()
    data["pillars"]["brand"]["signals"][1]["types"] = ["tweet_sent"]
    with pytest.raises(ConfigError) as excinfo:
        parse_config(data)
    assert excinfo.value.path == "pillars.brand.signals.1.types.0"
    assert "tweet_sent" in excinfo.value.message


def test_an_unknown_event_type_is_named_by_its_position_in_types() -> None:
    data = default_dict()
    data["pillars"]["brand"]["signals"][3]["types"] = ["endorsement_received", "kudos_received"]
    assert refused_path(data) == "pillars.brand.signals.3.types.1"


def test_an_unknown_event_type_in_a_ratio_is_refused() -> None:
    data = default_dict()
    data["pillars"]["engage"]["signals"][4]["denominator"] = ["email_received"]
    assert refused_path(data) == "pillars.engage.signals.4.denominator.0"


def test_an_unknown_top_level_field_is_refused() -> None:
    data = default_dict()
    data["colour"] = "blue"
    assert refused_path(data) == "colour"


def test_an_unknown_signal_field_is_refused() -> None:
    data = default_dict()
    data["pillars"]["brand"]["signals"][0]["colour"] = "blue"
    assert refused_path(data) == "pillars.brand.signals.0.colour"


def test_an_unknown_signal_kind_is_refused() -> None:
    data = default_dict()
    data["pillars"]["brand"]["signals"][1]["kind"] = "sum"
    assert refused_path(data) == "pillars.brand.signals.1.kind"


def test_a_ratio_without_numerator_is_refused() -> None:
    data = default_dict()
    del data["pillars"]["engage"]["signals"][4]["numerator"]
    assert refused_path(data) == "pillars.engage.signals.4.numerator"


def test_a_ratio_with_an_empty_denominator_is_refused() -> None:
    data = default_dict()
    data["pillars"]["relationships"]["signals"][1]["denominator"] = []
    assert refused_path(data) == "pillars.relationships.signals.1.denominator"


def test_a_ratio_min_denominator_of_zero_is_refused() -> None:
    data = default_dict()
    data["pillars"]["engage"]["signals"][4]["min_denominator"] = 0
    assert refused_path(data) == "pillars.engage.signals.4.min_denominator"


def test_a_count_without_types_is_refused() -> None:
    data = default_dict()
    del data["pillars"]["brand"]["signals"][1]["types"]
    assert refused_path(data) == "pillars.brand.signals.1.types"


def test_min_denominator_on_a_count_is_refused() -> None:
    data = default_dict()
    data["pillars"]["brand"]["signals"][1]["min_denominator"] = 2
    assert refused_path(data) == "pillars.brand.signals.1.min_denominator"


# --- custom event types -----------------------------------------------------------------


def test_a_custom_type_named_like_a_catalog_type_is_refused() -> None:
    data = default_dict()
    data["custom_event_types"] = [{"name": "post_published", "xp": 5}]
    assert refused_path(data) == "custom_event_types.0.name"


def test_a_custom_type_declared_twice_is_refused() -> None:
    data = default_dict()
    data["custom_event_types"] = [{"name": "webinar_hosted", "xp": 5}, {"name": "webinar_hosted", "xp": 1}]
    assert refused_path(data) == "custom_event_types.1.name"


def test_a_custom_type_becomes_usable_in_signal_types() -> None:
    data = default_dict()
    data["pillars"]["brand"]["signals"].append(
        {"key": "webinars", "kind": "count", "types": ["webinar_hosted"], "target": 4, "weight": 1}
    )
    assert refused_path(data) == "pillars.brand.signals.5.types.0"  # not declared yet

    data["custom_event_types"] = [{"name": "webinar_hosted", "xp": 10}]
    config = parse_config(data)
    assert "webinar_hosted" in config.event_types
    assert [(c.name, c.xp) for c in config.custom_event_types] == [("webinar_hosted", 10)]
    assert config.pillars[0].signals[5].types == ("webinar_hosted",)


# --- the error itself ---------------------------------------------------------------------


def test_a_refused_config_leaves_its_input_unchanged() -> None:
    data = default_dict()
    data["pillars"]["brand"]["signals"][1]["weight"] = 0
    before = copy.deepcopy(data)
    with pytest.raises(ConfigError):
        parse_config(data)
    assert data == before


def test_a_config_error_message_names_the_field() -> None:
    data = default_dict()
    data["window_days"] = 6
    with pytest.raises(ConfigError, match=r"^window_days: "):
        parse_config(data)


def test_a_config_that_is_not_an_object_is_refused() -> None:
    assert refused_path([]) == "config"
