"""The fast streak computation equals the definition walked day by day, on random histories."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from gamification.rules.streaks import counted, previous_counted, streak, streak_from_mask


def by_definition(days: list[date], today: date, mode: str) -> tuple[int, int]:
    active = {d for d in days if d <= today}
    end = today if counted(today, mode) and today in active else previous_counted(today, mode)
    current, cursor = 0, end
    while cursor in active:
        current += 1
        cursor = previous_counted(cursor, mode)
    longest = run = 0
    previous: date | None = None
    for day in sorted(d for d in active if counted(d, mode)):
        run = run + 1 if previous is not None and previous_counted(day, mode) == previous else 1
        longest = max(longest, run)
        previous = day
    return current, longest


@pytest.mark.parametrize("mode", ["weekdays", "daily"])
def test_streaks_match_the_day_by_day_definition(mode: str) -> None:
    rng = random.Random(7)
    for _ in range(2000):
        today = date(2026, 1, 1) + timedelta(days=rng.randint(0, 400))
        days = [today - timedelta(days=rng.randint(-3, 40)) for _ in range(rng.randint(0, 40))]
        result = streak(days, today=today, mode=mode)
        assert (result.current, result.longest) == by_definition(days, today, mode), (sorted(days), today)


def mask_of(days: list[date], today: date) -> int:
    return sum({1 << (today - d).days for d in days if d <= today})


@pytest.mark.parametrize("mode", ["weekdays", "daily"])
def test_streaks_from_a_day_mask_equal_the_streaks_from_the_days(mode: str) -> None:
    rng = random.Random(11)
    for _ in range(5000):
        today = date(2026, 1, 1) + timedelta(days=rng.randint(0, 400))
        density = rng.random()
        span = rng.choice([3, 10, 40, 130, 400])
        days = [today - timedelta(days=k) for k in range(-2, span) if rng.random() < density]
        expected = streak(days, today=today, mode=mode)
        assert streak_from_mask(mask_of(days, today), today=today, mode=mode) == expected, (
            sorted(days),
            today,
        )


def test_a_streak_from_a_mask_spans_weekends_and_counts_weekdays_only() -> None:
    monday = date(2026, 6, 1)
    # Wed, Thu, Fri before, the weekend without events, and Monday: 4 counted days.
    days = [monday - timedelta(days=k) for k in (5, 4, 3, 0)]
    result = streak_from_mask(mask_of(days, monday), today=monday, mode="weekdays")
    assert (result.current, result.longest, result.active_today) == (4, 4, True)
    assert result.last_active_day == monday
    daily = streak_from_mask(mask_of(days, monday), today=monday, mode="daily")
    assert (daily.current, daily.longest) == (1, 3)
    assert streak_from_mask(0, today=monday) == streak([], today=monday)
