"""Daily caps (docs/gamification.md#daily-caps-fair-play): how many of a rep's events of a type
on one local day count for XP and for the ``events.<type>`` metric.

The SQL that applies them (ingest, metrics, leaderboards, contests) says the same thing as
these functions: ``gamification.fair_play.capped_count_sql``.
"""

from __future__ import annotations


def capped_count(count: int, cap: int | None) -> int:
    """The capped count of a (rep, type, local day) with ``count`` stored events: ``min(count,
    cap)``; every event counts without a cap (None)."""
    return count if cap is None else min(count, cap)


def newly_counted(before: int, added: int, cap: int | None) -> int:
    """How many of ``added`` events stored now on a (rep, type, local day) that had ``before``
    count under ``cap``: the capped count after less the capped count before. Each event
    is counted by the ingest that stores it, so the day's credited events never exceed the
    cap in force when each was stored (a late event on a capped day counts for nothing)."""
    return capped_count(before + added, cap) - capped_count(before, cap)


def flag_threshold(p99: float, factor: float) -> float:
    """The daily count a rep must exceed to be flagged: the tenant's 99th percentile of daily
    counts of the type times its ``fair_play_factor``."""
    return p99 * factor
