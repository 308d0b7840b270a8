"""Streaks of active days (gamification.md, "Streaks").

A day is active when the rep has at least one event that (local) day. In
``weekdays`` mode Saturdays and Sundays are not counted: they neither extend
nor break a streak (an event on a Saturday makes no streak day). ``current``
ends today when today is active, else at the last counted day before today:
a streak stays alive until a counted day ends inactive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

MODES = ("weekdays", "daily")


@dataclass(frozen=True)
class Streak:
    current: int
    longest: int
    last_active_day: date | None
    active_today: bool


def counted(day: date, mode: str) -> bool:
    return mode == "daily" or day.weekday() < 5


def previous_counted(day: date, mode: str) -> date:
    day -= timedelta(days=1)
    while not counted(day, mode):
        day -= timedelta(days=1)
    return day


def streak(active_days: Iterable[date], *, today: date, mode: str = "weekdays") -> Streak:
    """Current and longest streaks from the set of active days (future days ignored)."""
    if mode not in MODES:
        raise ValueError(f"unknown streak mode {mode!r}")
    days = sorted({d for d in active_days if d <= today and counted(d, mode)})
    all_active = {d for d in active_days if d <= today}
    last_active = max(all_active) if all_active else None
    longest = 0
    run = 0
    previous: date | None = None
    for day in days:
        run = run + 1 if previous is not None and previous_counted(day, mode) == previous else 1
        longest = max(longest, run)
        previous = day
    # The run that is still alive ends today (if today counts and is active),
    # else at the last counted day before today.
    end = today if counted(today, mode) and today in all_active else previous_counted(today, mode)
    current = 0
    day_set = set(days)
    cursor = end
    while cursor in day_set:
        current += 1
        cursor = previous_counted(cursor, mode)
    return Streak(
        current=current, longest=longest, last_active_day=last_active, active_today=today in all_active
    )
