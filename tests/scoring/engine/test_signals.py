"""Events to signal values, kind by kind (docs/scoring.md#days-are-local-days, docs/scoring.md#signals).

Events are placed at noon UTC ``a`` days before the scoring day unless a test is
about time of day; every expected number is worked out by hand in its comment.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scoring.engine import DEFAULT, DEFAULT_CONFIG, Config, Event, aggregate_events, local_day, parse_config
from scoring.engine import signal_value as engine_signal_value

D = date(2026, 3, 10)
UTC_TZ = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def ago(age: int, hour: int = 12, minute: int = 0) -> datetime:
    """``hour:minute`` UTC on the day ``age`` days before D."""
    return datetime.combine(D - timedelta(days=age), time(hour, minute), tzinfo=UTC)


def ev(type_: str, age: int, value: float = 1, seq: int = 0) -> Event:
    return Event(type=type_, occurred_at=ago(age), value=value, seq=seq)


def config_with(**changes: Any) -> Config:
    """The default config with top-level changes and ``signal_<key>={...}`` signal changes."""
    data = copy.deepcopy(DEFAULT_CONFIG)
    for name, value in changes.items():
        if name.startswith("signal_"):
            key = name.removeprefix("signal_")
            signal = next(s for p in data["pillars"].values() for s in p["signals"] if s["key"] == key)
            signal.update(value)
        else:
            data[name] = value
    return parse_config(data)


def signal(
    key: str,
    events: Iterable[Event],
    *,
    day: date = D,
    config: Config = DEFAULT,
    tz: ZoneInfo = UTC_TZ,
) -> tuple[float, float, float | None, float | None]:
    """(x, n, num, den) of the signal ``key`` for ``events`` scored on ``day``."""
    agg = aggregate_events(events, day=day, config=config, tz=tz)
    found = next(s for _, s in config.signals if s.key == key)
    return engine_signal_value(found, agg)


def x_n(key: str, events: Iterable[Event], **kwargs: Any) -> tuple[float, float]:
    x, n, _, _ = signal(key, events, **kwargs)
    return x, n


approx = pytest.approx


# --- count ------------------------------------------------------------------------------


def test_count_decays_by_half_every_half_life() -> None:
    x, n = x_n("posts", [ev("post_published", 0), ev("post_published", 1), ev("post_published", 30)])
    assert x == approx(1 + 0.5 ** (1 / 30) + 0.5, abs=1e-9)  # ages 0, 1, 30 with H=30
    assert n == approx((1 + 0.5 ** (1 / 30) + 0.5) / 12, abs=1e-9)  # target 12


def test_an_event_one_half_life_old_counts_half() -> None:
    x, n = x_n("posts", [ev("post_published", 30)])
    assert x == approx(0.5, abs=1e-9)  # 0.5 ** (30/30)
    assert n == approx(0.5 / 12, abs=1e-9)


def test_count_without_half_life_does_not_decay() -> None:
    config = config_with(half_life_days=None)
    events = [ev("post_published", 0), ev("post_published", 1), ev("post_published", 30)]
    x, n = x_n("posts", events, config=config)
    assert x == approx(3, abs=1e-9)  # 1 + 1 + 1
    assert n == approx(0.25, abs=1e-9)  # 3 / 12


def test_count_sums_over_all_of_its_types() -> None:
    events = [ev("endorsement_received", 0), ev("recommendation_received", 30), ev("post_published", 0)]
    x, n = x_n("endorsements", events)
    assert x == approx(1.5, abs=1e-9)  # 1 + 0.5 ** (30/30); the post is not an endorsement
    assert n == approx(0.15, abs=1e-9)  # 1.5 / 10


def test_count_multiplies_by_the_event_value() -> None:
    x, n = x_n("followers", [ev("follower_gained", 0, value=7), ev("follower_gained", 30, value=7)])
    assert x == approx(10.5, abs=1e-9)  # 7 * 1 + 7 * 0.5
    assert n == approx(0.21, abs=1e-9)  # 10.5 / 50


def test_count_is_capped_at_one() -> None:
    x, n = x_n("followers", [ev("follower_gained", 0, value=120)])
    assert x == approx(120, abs=1e-9)
    assert n == 1.0  # min(1, 120 / 50)


def test_count_with_no_events_is_zero() -> None:
    assert x_n("posts", []) == (0.0, 0.0)


def test_count_window_includes_today_and_the_last_day_and_excludes_the_day_after() -> None:
    config = config_with(window_days=7, half_life_days=None)
    events = [ev("post_published", 0), ev("post_published", 6), ev("post_published", 7)]
    x, _ = x_n("posts", events, config=config)
    assert x == approx(2, abs=1e-9)  # ages 0 and 6 = W-1 count, age 7 = W does not


def test_count_window_edges_with_the_default_window_and_decay() -> None:
    events = [ev("post_published", 89), ev("post_published", 90), ev("post_published", 200)]
    x, _ = x_n("posts", events)
    assert x == approx(0.5 ** (89 / 30), abs=1e-9)  # only age 89 = W-1; ages 90 and 200 are out


def test_count_ignores_events_after_the_scoring_day() -> None:
    events = [ev("post_published", -1), ev("post_published", -30), ev("post_published", 0)]
    x, _ = x_n("posts", events)
    assert x == approx(1, abs=1e-9)  # only the age-0 event; negative ages are in the future


def test_count_of_a_custom_event_type() -> None:
    data = copy.deepcopy(DEFAULT_CONFIG)
    data["custom_event_types"] = [{"name": "webinar_hosted", "xp": 10}]
    data["pillars"]["brand"]["signals"].append(
        {"key": "webinars", "kind": "count", "types": ["webinar_hosted"], "target": 4, "weight": 1}
    )
    config = parse_config(data)
    x, n = x_n("webinars", [ev("webinar_hosted", 0, value=2), ev("webinar_hosted", 60)], config=config)
    assert x == approx(2.25, abs=1e-9)  # 2 * 1 + 1 * 0.5 ** (60/30)
    assert n == approx(0.5625, abs=1e-9)  # 2.25 / 4


# --- state ------------------------------------------------------------------------------


def test_state_takes_the_latest_event_whatever_the_input_order() -> None:
    events = [
        ev("profile_updated", 2, value=40),
        ev("profile_updated", 1, value=90),  # the latest
        ev("profile_updated", 3, value=70),
    ]
    for order in (events, events[::-1], [events[1], events[0], events[2]]):
        x, n = x_n("profile_completeness", order)
        assert x == 90
        assert n == approx(0.9, abs=1e-9)  # 90 / 100


def test_state_compares_times_within_a_day() -> None:
    morning = Event("profile_updated", ago(0, hour=9), value=50)
    evening = Event("profile_updated", ago(0, hour=17), value=60)
    assert x_n("profile_completeness", [evening, morning]) == (60, approx(0.6, abs=1e-9))  # 60 / 100


def test_state_ties_go_to_the_event_ingested_last() -> None:
    first = ev("profile_updated", 1, value=30, seq=5)
    last = ev("profile_updated", 1, value=20, seq=9)  # same occurred_at, ingested later
    for order in ([first, last], [last, first]):
        x, n = x_n("profile_completeness", order)
        assert x == 20
        assert n == approx(0.2, abs=1e-9)  # 20 / 100


def test_state_has_no_window() -> None:
    x, n = x_n("profile_completeness", [ev("profile_updated", 400, value=55)])
    assert x == 55  # 400 days old, still the latest
    assert n == approx(0.55, abs=1e-9)  # 55 / 100, no decay either


def test_state_is_zero_when_there_is_no_event() -> None:
    assert x_n("profile_completeness", [ev("post_published", 0)]) == (0.0, 0.0)


def test_state_is_capped_at_one() -> None:
    x, n = x_n("connections", [ev("connections_synced", 3, value=1200)])
    assert x == 1200
    assert n == 1.0  # min(1, 1200 / 500)


def test_state_ignores_events_after_the_scoring_day() -> None:
    events = [ev("profile_updated", 3, value=50), ev("profile_updated", -1, value=100)]
    assert x_n("profile_completeness", events) == (50, approx(0.5, abs=1e-9))  # 50 / 100


def test_state_does_not_decay() -> None:
    x, n = x_n("connections", [ev("connections_synced", 60, value=250)])
    assert x == 250  # 60 days old, not 250 * 0.5**(60/30)
    assert n == approx(0.5, abs=1e-9)  # 250 / 500


# --- ratio ------------------------------------------------------------------------------


def test_ratio_divides_numerator_by_denominator_then_by_target() -> None:
    events = [ev("connection_request_sent", 0, value=5), ev("connection_request_accepted", 2, value=2)]
    x, n, num, den = signal("acceptance_rate", events)
    assert (num, den) == (2, 5)
    assert x == approx(0.4, abs=1e-9)  # 2 / 5
    assert n == approx(2 / 3, abs=1e-9)  # (2 / 5) / 0.6


def test_ratio_sums_are_not_decayed_but_are_windowed() -> None:
    events = [
        ev("message_received", 0, value=3),
        ev("message_received", 60, value=2),  # 60 days old: counts in full
        ev("message_received", 90, value=100),  # outside the 90-day window
        ev("message_replied", 30, value=2),
        ev("message_replied", 89, value=1),
        ev("message_replied", -1, value=50),  # after D
    ]
    x, n, num, den = signal("response_rate", events)
    assert (num, den) == (3, 5)  # 2 + 1 and 3 + 2
    assert x == approx(0.6, abs=1e-9)  # 3 / 5
    assert n == approx(0.75, abs=1e-9)  # 0.6 / 0.8


def test_ratio_below_min_denominator_is_zero() -> None:
    config = config_with(signal_response_rate={"min_denominator": 2})
    events = [ev("message_received", 0), ev("message_replied", 0)]
    _, n, num, den = signal("response_rate", events, config=config)
    assert (num, den) == (1, 1)
    assert n == 0.0  # den 1 < min_denominator 2


def test_ratio_at_min_denominator_counts() -> None:
    config = config_with(signal_response_rate={"min_denominator": 2})
    events = [ev("message_received", 0), ev("message_received", 5), ev("message_replied", 0)]
    _, n, num, den = signal("response_rate", events, config=config)
    assert (num, den) == (1, 2)
    assert n == approx(0.625, abs=1e-9)  # (1 / 2) / 0.8


def test_ratio_with_zero_denominator_is_zero() -> None:
    _, n, num, den = signal("acceptance_rate", [ev("connection_request_accepted", 0, value=3)])
    assert (num, den) == (3, 0)
    assert n == 0.0  # den 0 < min_denominator 1


def test_ratio_is_capped_at_one() -> None:
    events = [ev("connection_request_sent", 0, value=5), ev("connection_request_accepted", 0, value=5)]
    x, n, _, _ = signal("acceptance_rate", events)
    assert x == approx(1, abs=1e-9)  # 5 / 5
    assert n == 1.0  # min(1, 1 / 0.6)


def test_ratio_with_fractional_min_denominator() -> None:
    config = config_with(signal_acceptance_rate={"min_denominator": 0.5})
    events = [ev("connection_request_sent", 0, value=0.5), ev("connection_request_accepted", 0, value=0.15)]
    _, n, _, _ = signal("acceptance_rate", events, config=config)
    assert n == approx(0.5, abs=1e-9)  # (0.15 / 0.5) / 0.6


# --- active_days -------------------------------------------------------------------------


def test_active_days_counts_distinct_local_days() -> None:
    events = [ev("post_liked", 0), ev("post_liked", 3), ev("lead_saved", 7)]
    x, n = x_n("active_days", events)
    assert x == 3  # days 0, 3, 7
    assert n == approx(3 / 45, abs=1e-9)


def test_active_days_counts_several_events_on_one_day_once() -> None:
    events = [
        Event("post_liked", ago(2, hour=8)),
        Event("post_liked", ago(2, hour=8)),
        Event("message_sent", ago(2, hour=15), value=4),
        Event("people_search", ago(2, hour=23, minute=59)),
    ]
    x, n = x_n("active_days", events)
    assert x == 1
    assert n == approx(1 / 45, abs=1e-9)


def test_active_days_with_empty_types_counts_every_type() -> None:
    types = ["profile_updated", "message_received", "connections_synced"]
    events = [ev(t, age) for age, t in enumerate(types)]  # ages 0, 1, 2
    x, _ = x_n("active_days", events)
    assert x == 3  # any type counts, even those worth no XP


def test_active_days_window_edges() -> None:
    events = [ev("post_liked", 0), ev("post_liked", 89), ev("post_liked", 90), ev("post_liked", -1)]
    x, _ = x_n("active_days", events)
    assert x == 2  # ages 0 and 89; not 90 (= W) nor -1 (after D)


def test_active_days_is_capped_at_one() -> None:
    x, n = x_n("active_days", [ev("post_liked", age) for age in range(60)])
    assert x == 60
    assert n == 1.0  # min(1, 60 / 45)


def test_active_days_with_types_counts_only_those_types() -> None:
    data = copy.deepcopy(DEFAULT_CONFIG)
    data["pillars"]["engage"]["signals"].append(
        {
            "key": "content_days",
            "kind": "active_days",
            "types": ["post_published", "post_commented"],
            "target": 10,
            "weight": 1,
        }
    )
    config = parse_config(data)
    events = [
        ev("post_published", 0),
        ev("post_commented", 0),
        ev("post_commented", 3),
        ev("message_sent", 5),
        ev("post_liked", 7),
    ]
    assert x_n("content_days", events, config=config) == (2, approx(0.2, abs=1e-9))  # days 0, 3; 2 / 10
    assert x_n("active_days", events, config=config) == (4, approx(4 / 45, abs=1e-9))  # days 0, 3, 5, 7


# --- days and timezones -------------------------------------------------------------------


def test_local_day_follows_the_tenant_timezone() -> None:
    late = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    assert local_day(late, UTC_TZ) == date(2026, 3, 9)
    assert local_day(late, BERLIN) == date(2026, 3, 10)  # 00:30 CET (UTC+1)
    assert local_day(late, NEW_YORK) == date(2026, 3, 9)  # 19:30 EDT (UTC-4)


def test_local_day_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError):
        local_day(datetime(2026, 3, 9, 12, 0), UTC_TZ)


def test_a_late_utc_event_belongs_to_the_next_berlin_day() -> None:
    event = Event("post_published", datetime(2026, 3, 9, 23, 30, tzinfo=UTC))
    assert x_n("posts", [event], day=date(2026, 3, 9), tz=BERLIN) == (0.0, 0.0)  # age -1: ignored
    x, _ = x_n("posts", [event], day=date(2026, 3, 10), tz=BERLIN)
    assert x == approx(1, abs=1e-9)  # age 0: 0.5 ** 0
    x, _ = x_n("posts", [event], day=date(2026, 3, 9), tz=UTC_TZ)
    assert x == approx(1, abs=1e-9)  # in UTC it is day 2026-03-09, age 0


def test_the_berlin_day_decides_the_decay_age() -> None:
    event = Event("post_published", datetime(2026, 3, 9, 23, 30, tzinfo=UTC))
    x, _ = x_n("posts", [event], day=date(2026, 3, 11), tz=BERLIN)
    assert x == approx(0.5 ** (1 / 30), abs=1e-9)  # Berlin day 03-10, age 1
    x, _ = x_n("posts", [event], day=date(2026, 3, 11), tz=UTC_TZ)
    assert x == approx(0.5 ** (2 / 30), abs=1e-9)  # UTC day 03-09, age 2


def test_local_days_across_the_new_york_spring_forward() -> None:
    # 2026-03-08: clocks go from 02:00 EST (UTC-5) to 03:00 EDT (UTC-4); the local day lasts 23 hours.
    assert local_day(datetime(2026, 3, 8, 4, 30, tzinfo=UTC), NEW_YORK) == date(2026, 3, 7)  # 23:30 EST
    assert local_day(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), NEW_YORK) == date(2026, 3, 8)  # 00:00 EST
    assert local_day(datetime(2026, 3, 9, 3, 59, tzinfo=UTC), NEW_YORK) == date(2026, 3, 8)  # 23:59 EDT
    assert local_day(datetime(2026, 3, 9, 4, 0, tzinfo=UTC), NEW_YORK) == date(2026, 3, 9)  # 00:00 EDT


def test_active_days_across_the_new_york_spring_forward() -> None:
    events = [
        Event("post_liked", datetime(2026, 3, 8, 4, 30, tzinfo=UTC)),  # 03-07 23:30 EST
        Event("post_liked", datetime(2026, 3, 8, 5, 0, tzinfo=UTC)),  # 03-08 00:00 EST
        Event("post_liked", datetime(2026, 3, 9, 3, 59, tzinfo=UTC)),  # 03-08 23:59 EDT
        Event("post_liked", datetime(2026, 3, 9, 4, 0, tzinfo=UTC)),  # 03-09 00:00 EDT
    ]
    x, _ = x_n("active_days", events, day=date(2026, 3, 9), tz=NEW_YORK)
    assert x == 3  # 03-07, 03-08, 03-09
    x, _ = x_n("active_days", events, day=date(2026, 3, 8), tz=NEW_YORK)
    assert x == 2  # 03-07, 03-08; the 03-09 event is after D
    x, _ = x_n("active_days", events, day=date(2026, 3, 9), tz=UTC_TZ)
    assert x == 2  # in UTC: 03-08 (two events) and 03-09 (two events)


def test_decay_across_the_new_york_spring_forward_uses_whole_local_days() -> None:
    # 2026-03-07 12:00 EST and 2026-03-09 12:00 EDT: 47 hours apart, but two local days.
    events = [Event("post_published", datetime(2026, 3, 7, 17, 0, tzinfo=UTC))]
    x, _ = x_n("posts", events, day=date(2026, 3, 9), tz=NEW_YORK)
    assert x == approx(0.5 ** (2 / 30), abs=1e-9)  # age 2
