"""The fast streak computation equals the definition walked day by day, on random histories."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from gamification.rules.streaks import counted, previous_counted, streak


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
