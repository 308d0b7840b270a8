"""The config as form fields and two versions as readable lines. Plain data, no database."""

from __future__ import annotations

import copy
from typing import Any

from console.weights_form import config_diff, draft_with_fields, every_field, parse_number
from scoring.engine import DEFAULT_CONFIG


def config() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_CONFIG)


def test_every_number_is_a_field_named_by_its_path_with_a_readable_label() -> None:
    fields = {f.name: f for f in every_field(config())}
    # 2 general + 4 max points + 18 signals x 2 + 2 ratio minimum denominators
    assert len(fields) == 2 + 4 + 36 + 2
    assert (
        fields["pillars.brand.signals.1.target"].label,
        fields["pillars.brand.signals.1.target"].value,
    ) == (
        "Posts target",
        "12",
    )
    assert fields["pillars.find.signals.1.weight"].label == "Profile views weight"
    assert fields["pillars.engage.signals.4.min_denominator"].label == "Response rate minimum denominator"
    assert fields["half_life_days"].optional and not fields["window_days"].optional


def test_typed_numbers_go_back_into_the_json_and_text_stays_text_for_validation() -> None:
    assert parse_number(" 5 ", optional=False) == 5
    assert parse_number("0.75", optional=False) == 0.75
    assert parse_number("", optional=True) is None
    assert parse_number("", optional=False) == ""
    assert parse_number("lots", optional=False) == "lots"
    assert parse_number("inf", optional=False) == "inf"
    draft = draft_with_fields(config(), {"pillars.brand.signals.1.target": "5", "half_life_days": ""})
    assert draft["pillars"]["brand"]["signals"][1]["target"] == 5
    assert draft["half_life_days"] is None
    assert DEFAULT_CONFIG["pillars"]["brand"]["signals"][1]["target"] == 12  # the base is not changed


def test_a_malformed_draft_gives_fields_for_what_it_has() -> None:
    broken = {"window_days": 30, "pillars": {"brand": {"signals": ["not a signal"]}, "find": 7}}
    names = {f.name for f in every_field(broken)}
    assert {"window_days", "pillars.brand.max_points", "pillars.find.max_points"} <= names
    draft_with_fields(broken, {f: "1" for f in names})  # no exception: validation names what is wrong


def test_the_diff_reads_as_sentences() -> None:
    old, new = config(), config()
    new["half_life_days"] = None
    new["pillars"]["brand"]["max_points"] = 30
    new["pillars"]["find"]["max_points"] = 20
    new["pillars"]["brand"]["signals"][1]["target"] = 3
    new["pillars"]["brand"]["signals"][1]["types"] = ["post_published", "article_published"]
    del new["pillars"]["engage"]["signals"][5]  # groups
    new["pillars"]["relationships"]["signals"].append(
        {"key": "intros", "kind": "count", "types": ["intro_made"], "target": 4, "weight": 1}
    )
    new["custom_event_types"] = [{"name": "intro_made", "xp": 5}]
    assert config_diff(old, new) == [
        "Half-life (days): 30 → none (no decay)",
        "Brand max points: 25 → 30",
        "Posts target: 12 → 3",
        "Posts event types: post_published → post_published, article_published",
        "Find max points: 25 → 20",
        "Engage: signal Groups removed",
        "Relationships: signal Intros added (count: intro_made; target 4, weight 1)",
        "Custom event type intro_made added (5 XP)",
    ]
    assert config_diff(old, config()) == []
