"""Streaks of active days (docs/gamification.md#streaks).

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
from functools import lru_cache

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


def day_index(day: date, mode: str) -> int:
    """Counted days numbered so that consecutive counted days differ by exactly 1.

    Daily: the ordinal. Weekdays: five numbers per week (date(1, 1, 1) was a
    Monday); a Saturday or Sunday gets its Friday's number.
    """
    ordinal = day.toordinal()
    if mode == "daily":
        return ordinal
    weeks, weekday = divmod(ordinal - 1, 7)
    return weeks * 5 + min(weekday, 4)


def streak(active_days: Iterable[date], *, today: date, mode: str = "weekdays") -> Streak:
    """Current and longest streaks from the set of active days (future days ignored).

    Runs are found on day indices (``day_index``), one pass over the sorted
    days, so the cost follows the active days, not the length of the calendar.
    """
    if mode not in MODES:
        raise ValueError(f"unknown streak mode {mode!r}")
    all_active = {d for d in active_days if d <= today}
    last_active = max(all_active) if all_active else None
    indices = sorted({day_index(d, mode) for d in all_active if counted(d, mode)})
    longest = run = 0
    previous = None
    run_ending: dict[int, int] = {}
    for index in indices:
        run = run + 1 if previous is not None and index == previous + 1 else 1
        run_ending[index] = run
        longest = max(longest, run)
        previous = index
    # The run still alive ends today (today counted and active), else at the
    # last counted day before today.
    today_index = day_index(today, mode)
    if counted(today, mode) and today not in all_active:
        today_index -= 1
    return Streak(
        current=run_ending.get(today_index, 0),
        longest=longest,
        last_active_day=last_active,
        active_today=today in all_active,
    )


@lru_cache(maxsize=64)
def _weekend_bits(today: date, length: int) -> int:
    """Bit ``k`` (``k < length``) set when ``today - k`` days is a Saturday or Sunday."""
    weekday = today.weekday()
    week = (1 << (weekday - 5) % 7) | (1 << (weekday - 6) % 7)
    every_week = int("0000001" * (length // 7 + 1), 2)  # bit 7i, for each week i
    return (week * every_week) & ((1 << length) - 1)


def streak_from_mask(mask: int, *, today: date, mode: str = "weekdays") -> Streak:
    """``streak`` from a bitmask of active days: bit ``k`` set when the day ``k`` days before
    ``today`` is active (no bit for a future day). The same answer as ``streak`` on those days.

    Runs are found with a few integer operations each, not a step per day. In ``weekdays``
    mode Saturdays and Sundays are set as if active (they never break a run) and not
    counted in its length: a run's length is its active weekdays.
    """
    if mode not in MODES:
        raise ValueError(f"unknown streak mode {mode!r}")
    if mask < 0:
        raise ValueError("a mask of active days is not negative")
    if not mask:
        return Streak(current=0, longest=0, last_active_day=None, active_today=False)
    active_today = bool(mask & 1)
    last_active = today - timedelta(days=(mask & -mask).bit_length() - 1)
    weekends = 0 if mode == "daily" else _weekend_bits(today, mask.bit_length())
    counted_active = mask & ~weekends
    # The current streak is the run through today when today is active or not counted,
    # else the run through yesterday (a weekend then leads back to Friday).
    end = 1 if counted(today, mode) and not active_today else 0
    current = longest = 0
    rest = mask | weekends
    while rest:
        lowest = rest & -rest
        run = rest & ~(rest + lowest)  # the lowest run of set bits
        length = (run & counted_active).bit_count()
        longest = max(longest, length)
        if run >> end & 1:
            current = length
        rest ^= run
    return Streak(current=current, longest=longest, last_active_day=last_active, active_today=active_today)
