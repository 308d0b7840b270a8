"""From events to the per-rep aggregates that scoring needs.

Scores for a day ``D`` depend on events only through these aggregates:

* ``decayed[type]``: sum of ``value * 0.5 ** (a / H)`` over events with
  ``0 <= a < W`` (``a = D - local day``), for count signals;
* ``raw[type]``: the undecayed sum of ``value`` over the same window, for
  ratio signals;
* ``latest[type]``: the latest event with local day ``<= D`` (by
  ``occurred_at``, ties by ingestion order), for state signals;
* ``active_days[types]``: distinct local days in the window with an event of
  one of ``types`` (empty: any type), for active_days signals.

``aggregate_events`` computes them from raw events: it is the reference
implementation, used by tests and previews. The database computes the same
aggregates from its daily rollup (``scoring.selectors``), decaying per day
rather than per event; a test checks both agree.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from scoring.engine.config import Config


@dataclass(frozen=True)
class Event:
    type: str
    occurred_at: datetime  # timezone-aware
    value: float = 1.0
    seq: int = 0  # ingestion order: a later event has a larger seq


@dataclass(frozen=True, order=True)
class Latest:
    """The latest event of a type: compared by (occurred_at, seq)."""

    occurred_at: datetime
    seq: int
    value: float = field(compare=False)


@dataclass(frozen=True)
class RepAggregates:
    decayed: Mapping[str, float] = field(default_factory=dict)
    raw: Mapping[str, float] = field(default_factory=dict)
    latest: Mapping[str, Latest] = field(default_factory=dict)
    active_days: Mapping[frozenset[str], int] = field(default_factory=dict)


EMPTY = RepAggregates()


def local_day(occurred_at: datetime, tz: ZoneInfo) -> date:
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    return occurred_at.astimezone(tz).date()


def aggregate_events(events: Iterable[Event], *, day: date, config: Config, tz: ZoneInfo) -> RepAggregates:
    """Aggregates of one rep's events for scoring ``day`` (reference implementation)."""
    decayed_parts: dict[str, list[float]] = defaultdict(list)
    raw_parts: dict[str, list[float]] = defaultdict(list)
    latest: dict[str, Latest] = {}
    days_by_type: dict[str, set[date]] = defaultdict(set)
    for event in events:
        event_day = local_day(event.occurred_at, tz)
        age = (day - event_day).days
        if age < 0:
            continue  # after D: not seen yet
        candidate = Latest(event.occurred_at, event.seq, float(event.value))
        if event.type not in latest or candidate > latest[event.type]:
            latest[event.type] = candidate
        if age < config.window_days:
            decayed_parts[event.type].append(event.value * config.decay(age))
            raw_parts[event.type].append(event.value)
            days_by_type[event.type].add(event_day)
    active_days: dict[frozenset[str], int] = {}
    for types in config.active_day_type_sets:
        selected = (
            days_by_type.values() if not types else (days_by_type[t] for t in types if t in days_by_type)
        )
        active_days[types] = len(set().union(*selected))
    return RepAggregates(
        decayed={t: math.fsum(v) for t, v in decayed_parts.items()},
        raw={t: math.fsum(v) for t, v in raw_parts.items()},
        latest=latest,
        active_days=active_days,
    )
