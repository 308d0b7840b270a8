"""Goal progress and status (docs/gamification.md#goals)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

AGGREGATES = ("avg", "sum", "min")
ACTIVE, ACHIEVED, MISSED = "active", "achieved", "missed"


@dataclass(frozen=True)
class GoalState:
    status: str
    progress: float
    current: float | None
    transition: str | None  # "goal.achieved" | "goal.missed" when the status changes now


def aggregate(values: Sequence[float], how: str) -> float | None:
    """A team goal's current value over its active reps' values (None without reps)."""
    if not values:
        return None
    if how == "avg":
        return math.fsum(values) / len(values)
    if how == "sum":
        return math.fsum(values)
    if how == "min":
        return min(values)
    raise ValueError(f"unknown aggregate {how!r}")


def progress(current: float | None, target: float) -> float:
    if current is None or target <= 0:
        return 0.0
    return max(0.0, min(1.0, current / target))


def goal_state(
    *, status: str, current: float | None, target: float, start: date, end: date, today: date
) -> GoalState:
    """The goal's state today, ``current`` being the value as of min(today, end).

    Status moves once: active -> achieved (current >= target on a day within
    the period) or active -> missed (end_date passed unachieved); never back.
    """
    shown = progress(current, target)
    if status != ACTIVE:
        return GoalState(status, shown, current, None)
    # ``current`` is measured as of min(today, end): when it reaches the target,
    # it did so on a day within the period, even if first seen after the end.
    if today >= start and current is not None and current >= target:
        return GoalState(ACHIEVED, shown, current, "goal.achieved")
    if today > end:
        return GoalState(MISSED, shown, current, "goal.missed")
    return GoalState(ACTIVE, shown, current, None)
