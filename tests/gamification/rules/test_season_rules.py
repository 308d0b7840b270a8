"""Seasons of a recurring contest (gamification.rules.seasons; docs/contests.md#seasons), by hand."""

from __future__ import annotations

from datetime import date

import pytest

from gamification.rules.seasons import Season, season_aligned, season_containing


def test_a_week_season_is_the_iso_week_from_monday_to_sunday() -> None:
    season = Season(date(2026, 3, 23), date(2026, 3, 29), "2026-W13")
    for day in range(23, 30):  # Monday 23rd to Sunday 29th March 2026
        assert season_containing("week", date(2026, 3, day)) == season
    assert season_containing("week", date(2026, 3, 30)).label == "2026-W14"


def test_a_week_across_the_new_year_is_labelled_with_its_iso_year() -> None:
    # 2026 has 53 ISO weeks: its last runs Monday 28 December 2026 to Sunday 3 January 2027.
    last = Season(date(2026, 12, 28), date(2027, 1, 3), "2026-W53")
    assert season_containing("week", date(2027, 1, 3)) == last
    assert season_containing("week", date(2026, 12, 31)) == last
    assert season_containing("week", date(2027, 1, 4)) == Season(
        date(2027, 1, 4), date(2027, 1, 10), "2027-W01"
    )


def test_a_month_season_is_the_calendar_month() -> None:
    assert season_containing("month", date(2026, 12, 31)) == Season(
        date(2026, 12, 1), date(2026, 12, 31), "2026-12"
    )
    assert season_containing("month", date(2026, 2, 14)) == Season(
        date(2026, 2, 1), date(2026, 2, 28), "2026-02"
    )
    assert season_containing("month", date(2028, 2, 1)).end == date(2028, 2, 29)  # a leap year


@pytest.mark.parametrize(
    ("every", "day", "aligned"),
    [
        ("week", date(2026, 12, 7), True),  # a Monday
        ("week", date(2026, 12, 6), False),  # a Sunday
        ("month", date(2026, 12, 1), True),
        ("month", date(2026, 12, 7), False),
    ],
)
def test_a_series_starts_on_the_first_day_of_a_season(every: str, day: date, aligned: bool) -> None:
    assert season_aligned(every, day) is aligned


def test_an_unknown_cadence_is_refused() -> None:
    with pytest.raises(ValueError):
        season_containing("fortnight", date(2026, 12, 7))
