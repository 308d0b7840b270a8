"""The pure streak and level rules, computed by hand.

The rules: docs/gamification.md#streaks and docs/gamification.md#xp-and-levels.

No database. The calendar used: March 2026, where the 2nd, 9th and 16th are Mondays::

    Mo Tu We Th Fr Sa Su
     2  3  4  5  6  7  8
     9 10 11 12 13 14 15
    16 17 18 19 20 21 22
"""

from __future__ import annotations

from datetime import date

import pytest

from gamification.rules.levels import DEFAULT_THRESHOLDS, level_for, levels_gained
from gamification.rules.streaks import Streak, streak


def mar(*days: int) -> list[date]:
    return [date(2026, 3, d) for d in days]


# --- weekdays mode (the default) ----------------------------------------------------------------------


def test_streak_skips_weekends_in_weekday_mode() -> None:
    # Thu 5, Fri 6, (Sat, Sun not counted), Mon 9, Tue 10: one run of 4.
    assert streak(mar(5, 6, 9, 10), today=date(2026, 3, 10)) == Streak(
        current=4, longest=4, last_active_day=date(2026, 3, 10), active_today=True
    )


def test_the_same_days_make_two_runs_in_daily_mode() -> None:
    # Sat 7 and Sun 8 are counted days without events: they break the run.
    assert streak(mar(5, 6, 9, 10), today=date(2026, 3, 10), mode="daily") == Streak(
        current=2, longest=2, last_active_day=date(2026, 3, 10), active_today=True
    )


def test_weekend_events_neither_extend_nor_start_a_streak_in_weekday_mode() -> None:
    result = streak(mar(7, 8), today=date(2026, 3, 9))
    assert result == Streak(current=0, longest=0, last_active_day=date(2026, 3, 8), active_today=False)


def test_a_weekend_event_does_not_break_the_weekday_run_around_it() -> None:
    # Fri 6, Sat 7 (ignored), Mon 9: 2 counted days in a row.
    assert streak(mar(6, 7, 9), today=date(2026, 3, 9)).current == 2


def test_a_missed_weekday_breaks_the_streak() -> None:
    # Fri 6, no Mon 9, Tue 10.
    result = streak(mar(6, 10), today=date(2026, 3, 10))
    assert (result.current, result.longest) == (1, 1)


def test_the_streak_stays_alive_until_today_ends_inactive() -> None:
    days = mar(9, 10)  # Mon, Tue
    # Wednesday, no event yet: the run that ended yesterday still counts.
    assert streak(days, today=date(2026, 3, 11)) == Streak(
        current=2, longest=2, last_active_day=date(2026, 3, 10), active_today=False
    )
    # Thursday: Wednesday ended inactive, the streak is over; the record stays.
    assert streak(days, today=date(2026, 3, 12)) == Streak(
        current=0, longest=2, last_active_day=date(2026, 3, 10), active_today=False
    )


def test_the_streak_survives_the_weekend_in_weekday_mode() -> None:
    days = mar(12, 13)  # Thu, Fri
    for today in (14, 15, 16):  # Sat, Sun, and Monday before its first event
        assert streak(days, today=date(2026, 3, today)).current == 2, today
    assert streak(days, today=date(2026, 3, 17)).current == 0  # Monday ended inactive


def test_a_saturday_event_is_active_today_but_counts_no_streak_day() -> None:
    result = streak(mar(13, 14), today=date(2026, 3, 14))
    assert result == Streak(current=1, longest=1, last_active_day=date(2026, 3, 14), active_today=True)


def test_the_same_weekend_keeps_a_daily_streak_only_when_it_is_active() -> None:
    assert streak(mar(6, 7, 8, 9), today=date(2026, 3, 9), mode="daily").current == 4
    assert streak(mar(6, 9), today=date(2026, 3, 9), mode="daily").current == 1


def test_longest_is_the_best_run_ever() -> None:
    # Mon 2 - Fri 6 (5 days), Mon 9 missed, Tue 10 - Wed 11 (2 days), today Wed 11.
    result = streak(mar(2, 3, 4, 5, 6, 10, 11), today=date(2026, 3, 11))
    assert (result.current, result.longest) == (2, 5)


def test_several_events_on_a_day_count_once() -> None:
    assert streak(mar(9, 9, 9, 10), today=date(2026, 3, 10)).current == 2


def test_days_after_today_are_ignored() -> None:
    result = streak(mar(10, 11, 12), today=date(2026, 3, 10))
    assert result == Streak(current=1, longest=1, last_active_day=date(2026, 3, 10), active_today=True)


def test_no_active_days_is_no_streak() -> None:
    assert streak([], today=date(2026, 3, 10)) == Streak(
        current=0, longest=0, last_active_day=None, active_today=False
    )


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="streak mode"):
        streak(mar(10), today=date(2026, 3, 10), mode="weekly")


# --- levels --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xp", "level"),
    [(0, 1), (99, 1), (100, 2), (299, 2), (300, 3), (599, 3), (600, 4), (9999, 9), (10000, 10), (10**7, 10)],
)
def test_level_is_the_number_of_default_thresholds_reached(xp: int, level: int) -> None:
    assert level_for(xp) == level
    assert level_for(xp, DEFAULT_THRESHOLDS) == level


@pytest.mark.parametrize(("xp", "level"), [(0, 1), (49, 1), (50, 2), (199, 2), (200, 3), (5000, 3)])
def test_custom_thresholds_set_the_levels(xp: int, level: int) -> None:
    assert level_for(xp, [0, 50, 200]) == level


def test_levels_gained_lists_every_level_crossed() -> None:
    assert levels_gained(90, 310) == [2, 3]
    assert levels_gained(100, 299) == []
    assert levels_gained(0, 50, [0, 50, 200]) == [2]
