"""The past periods of a repeating badge (docs/gamification.md#badge-preview-and-past-awards).

Pure: no Django. A badge given over the past is evaluated once per period that
ended before the current one began, as of that period's last local day.
"""

from __future__ import annotations

from datetime import date, timedelta

ONCE, DAILY, WEEKLY, MONTHLY = "once", "daily", "weekly", "monthly"


def period_key(repeat: str, day: date) -> str:
    """The period an award belongs to: "" (once ever), local day, ISO week or month."""
    if repeat == DAILY:
        return day.isoformat()
    if repeat == WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if repeat == MONTHLY:
        return f"{day.year}-{day.month:02d}"
    return ""


def _month_end(day: date) -> date:
    first_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def past_period_ends(repeat: str, first: date | None, today: date) -> list[date]:
    """The last day of each period to evaluate, oldest first.

    ``once``: today alone (as of today). ``daily``/``weekly``/``monthly``: every local day,
    ISO week (Monday to Sunday) or calendar month from the one holding ``first`` (the first
    day with data; None: no data, nothing to evaluate) to the last one that ended before the
    current period began. The current period is the usual evaluation's.
    """
    if repeat == ONCE:
        return [today]
    if first is None:
        return []
    ends: list[date] = []
    if repeat == DAILY:
        day = first
        while day < today:
            ends.append(day)
            day += timedelta(days=1)
    elif repeat == WEEKLY:
        current_start = today - timedelta(days=today.weekday())
        end = first + timedelta(days=6 - first.weekday())
        while end < current_start:
            ends.append(end)
            end += timedelta(days=7)
    elif repeat == MONTHLY:
        current_start = today.replace(day=1)
        end = _month_end(first)
        while end < current_start:
            ends.append(end)
            end = _month_end(end + timedelta(days=1))
    else:
        raise ValueError(f"unknown repeat {repeat!r}")
    return ends
