"""Seasons of a recurring contest: which local days a season spans and what it is called
(docs/contests.md#seasons).

Plain Python on local dates (the tenant's zone is applied by the caller, which turns the clock
into a local today): a ``week`` season is an ISO week, Monday to Sunday, labelled
``YYYY-Www`` with the ISO year; a ``month`` season is a calendar month, labelled ``YYYY-MM``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

EVERY = ("week", "month")


@dataclass(frozen=True)
class Season:
    start: date
    end: date  # the last local day, inclusive
    label: str


def season_containing(every: str, day: date) -> Season:
    """The season of cadence ``every`` that local ``day`` falls in."""
    if every == "week":
        start = day - timedelta(days=day.weekday())
        year, week, _ = start.isocalendar()
        return Season(start, start + timedelta(days=6), f"{year}-W{week:02d}")
    if every == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return Season(day.replace(day=1), day.replace(day=last), f"{day.year}-{day.month:02d}")
    raise ValueError(f"unknown cadence {every!r}")


def season_aligned(every: str, day: date) -> bool:
    """Whether ``day`` is the first day of a season: a Monday, or the 1st of a month."""
    return season_containing(every, day).start == day
