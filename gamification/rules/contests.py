"""Contest standings: ranking, races and team aggregates (docs/contests.md#standings).

Plain Python: values in, ranked rows out. Every comparison is made on the value
rounded to 2 decimals, half away from zero (``scoring.engine.round2``), and ranks
are competition ranks: 1 + the number of entries with a strictly higher rounded value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from scoring.engine import PILLARS, round2

K = TypeVar("K", bound=Hashable)

KINDS = ("leaderboard", "race", "teams")
AGGREGATES = ("avg", "sum")
GAIN_METRICS = ("ssi.gain", *(f"pillar.{p}.gain" for p in PILLARS))
_TYPED = re.compile(r"^(events|sum)\.([a-z0-9_]{1,64})\Z")


@dataclass(frozen=True)
class Metric:
    """A parsed contest metric: ``family`` is events, sum, xp or gain; ``arg`` the event
    type (events, sum) or the snapshot column (gain: ssi or a pillar)."""

    family: str
    arg: str


def metric_parse(text: object) -> Metric | None:
    """The metric named by ``text``, or None when it is none of the contest metrics (the
    event type of ``events.*``/``sum.*`` is checked against the tenant's types elsewhere)."""
    if not isinstance(text, str):
        return None
    if text == "xp":
        return Metric("xp", "")
    if text in GAIN_METRICS:
        return Metric("gain", text.split(".")[-2] if text.startswith("pillar.") else "ssi")
    match = _TYPED.match(text)
    if match:
        return Metric(match.group(1), match.group(2))
    return None


@dataclass(frozen=True)
class Entry(Generic[K]):
    """One participant (a rep or a team) with its value and, in a race, when it reached
    the target (None: not reached)."""

    key: K
    value: float
    reached_at: datetime | None = None


@dataclass(frozen=True)
class Ranked(Generic[K]):
    key: K
    rank: int
    value: float  # rounded to 2 decimals
    reached_at: datetime | None = None


def rank_by_value(entries: Iterable[Entry[K]]) -> list[Ranked[K]]:
    """Competition ranking by the rounded value, highest first. Rows of a rank keep the
    order they came in (the caller sorts them, e.g. by external id)."""
    rows = [(round2(e.value), e) for e in entries]
    rows.sort(key=lambda r: -r[0])
    out: list[Ranked[K]] = []
    for position, (value, entry) in enumerate(rows):
        rank = out[-1].rank if out and out[-1].value == value else position + 1
        out.append(Ranked(entry.key, rank, value, entry.reached_at))
    return out


def rank_race(entries: Iterable[Entry[K]]) -> list[Ranked[K]]:
    """A race: those with a ``reached_at`` first, earliest first, equal times sharing a
    rank; then the others, ranked by rounded value after them (competition ranking
    continued: the first of them is 1 + the number of reachers + those above it). Rows
    of a rank keep the order they came in."""
    items = list(entries)
    reached = sorted(((e.reached_at, e) for e in items if e.reached_at is not None), key=lambda pair: pair[0])
    out: list[Ranked[K]] = []
    for position, (moment, entry) in enumerate(reached):
        rank = out[-1].rank if out and out[-1].reached_at == moment else position + 1
        out.append(Ranked(entry.key, rank, round2(entry.value), moment))
    offset = len(out)
    for row in rank_by_value([e for e in items if e.reached_at is None]):
        out.append(Ranked(row.key, row.rank + offset, row.value, None))
    return out


def team_value(values: Sequence[float], aggregate: str) -> float:
    """A team's value from its participant members' values: their average or sum; 0 for a
    team with no participant member."""
    if not values:
        return 0.0
    total = math.fsum(values)
    if aggregate == "avg":
        return total / len(values)
    if aggregate == "sum":
        return total
    raise ValueError(f"unknown aggregate {aggregate!r}")


def race_reached_at(steps: Iterable[tuple[datetime, float]], start: float, target: float) -> datetime | None:
    """When a running value first became >= ``target``: ``steps`` are (moment, increment)
    in the order they count (events by occurred_at, then id), ``start`` the value before
    them. Compared rounded, as everything else."""
    running = start
    for moment, increment in steps:
        running += increment
        if round2(running) >= round2(target):
            return moment
    return None


class _Ranked(Protocol):
    @property
    def rank(self) -> int: ...


R = TypeVar("R", bound=_Ranked)


def sole_leader(rows: Iterable[R]) -> R | None:
    """The one row at rank 1, or None while the lead is shared (two or more rows at rank 1)
    or nobody takes part: a lead change is announced only for a sole leader."""
    first = [row for row in rows if row.rank == 1]
    return first[0] if len(first) == 1 else None
