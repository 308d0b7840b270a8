"""The past periods a badge given over the past is evaluated for (gamification.rules.periods),
hand-computed: Thursday 2026-12-03 is "today" (ISO week 2026-W49, Monday 2026-11-30)."""

from __future__ import annotations

from datetime import date

import pytest

from gamification.rules.periods import past_period_ends, period_key

TODAY = date(2026, 12, 3)


def test_once_is_evaluated_as_of_today_alone_even_without_data() -> None:
    assert past_period_ends("once", None, TODAY) == [TODAY]
    assert past_period_ends("once", date(2026, 1, 1), TODAY) == [TODAY]


@pytest.mark.parametrize("repeat", ["daily", "weekly", "monthly"])
def test_no_data_means_no_past_period(repeat: str) -> None:
    assert past_period_ends(repeat, None, TODAY) == []


def test_daily_periods_are_each_day_from_the_first_to_yesterday() -> None:
    assert past_period_ends("daily", date(2026, 11, 29), TODAY) == [
        date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2),
    ]  # fmt: skip
    assert past_period_ends("daily", TODAY, TODAY) == []


def test_weekly_periods_end_on_the_sundays_before_the_current_iso_week() -> None:
    # First data on Wednesday 2026-11-11 (W46): W46, W47, W48; W49 is the current week.
    ends = past_period_ends("weekly", date(2026, 11, 11), TODAY)
    assert ends == [date(2026, 11, 15), date(2026, 11, 22), date(2026, 11, 29)]
    assert [period_key("weekly", d) for d in ends] == ["2026-W46", "2026-W47", "2026-W48"]
    assert past_period_ends("weekly", date(2026, 11, 30), TODAY) == []


def test_weekly_periods_cross_the_year_by_iso_weeks() -> None:
    # Monday 2027-01-04 starts 2027-W01; 2026-12-28 to 2027-01-03 is 2026-W53.
    ends = past_period_ends("weekly", date(2026, 12, 24), date(2027, 1, 5))
    assert [period_key("weekly", d) for d in ends] == ["2026-W52", "2026-W53"]
    assert ends[-1] == date(2027, 1, 3)


def test_monthly_periods_end_on_each_months_last_day_before_the_current_month() -> None:
    ends = past_period_ends("monthly", date(2026, 1, 31), date(2026, 4, 1))
    assert ends == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    assert [period_key("monthly", d) for d in ends] == ["2026-01", "2026-02", "2026-03"]
    assert past_period_ends("monthly", date(2025, 12, 5), date(2026, 1, 2)) == [date(2025, 12, 31)]
    assert past_period_ends("monthly", date(2026, 12, 1), TODAY) == []
