"""What runs after a day is scored. Other apps register here (gamification does).

A registry rather than Django signals: the calls are explicit, ordered and
easy to follow from the one place that fires them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

logger = logging.getLogger(__name__)

DayScoredHook = Callable[..., Any]
EventsStoredHook = Callable[..., Any]
_day_scored: list[DayScoredHook] = []
_events_stored: list[EventsStoredHook] = []


def on_events_stored(hook: EventsStoredHook) -> EventsStoredHook:
    """Register ``hook(tenant=..., stored=..., external_ids=..., config=...)``, called inside
    the ingest transaction with ``stored``: (rep id, type, local day, count) of the events
    stored now (duplicates excluded), and the scoring config the batch was validated with."""
    if hook not in _events_stored:
        _events_stored.append(hook)
    return hook


def events_stored(
    *, tenant: Any, stored: list[tuple[int, str, date, int]], external_ids: dict[int, str], config: Any
) -> None:
    for hook in _events_stored:
        hook(tenant=tenant, stored=stored, external_ids=external_ids, config=config)


def on_day_scored(hook: DayScoredHook) -> DayScoredHook:
    """Register ``hook(tenant=..., day=..., nightly=...)``, called after a day's snapshots commit."""
    if hook not in _day_scored:
        _day_scored.append(hook)
    return hook


def day_scored(*, tenant: Any, day: date, nightly: bool = False) -> None:
    for hook in _day_scored:
        hook(tenant=tenant, day=day, nightly=nightly)
