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
_day_scored: list[DayScoredHook] = []


def on_day_scored(hook: DayScoredHook) -> DayScoredHook:
    """Register ``hook(tenant=..., day=...)``, called after a day's snapshots commit."""
    if hook not in _day_scored:
        _day_scored.append(hook)
    return hook


def day_scored(*, tenant: Any, day: date) -> None:
    for hook in _day_scored:
        hook(tenant=tenant, day=day)
