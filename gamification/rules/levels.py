"""XP levels: level = the number of thresholds <= xp (level 1 at 0 XP)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

DEFAULT_THRESHOLDS: tuple[int, ...] = (0, 100, 300, 600, 1000, 1500, 2500, 4000, 6000, 10000)


def level_for(xp: float, thresholds: Sequence[int] = DEFAULT_THRESHOLDS) -> int:
    return bisect_right(thresholds, xp)


def levels_gained(before: float, after: float, thresholds: Sequence[int] = DEFAULT_THRESHOLDS) -> list[int]:
    """The levels reached going from ``before`` to ``after`` XP (each emits ``level.up``)."""
    old, new = level_for(before, thresholds), level_for(after, thresholds)
    return list(range(old + 1, new + 1))
