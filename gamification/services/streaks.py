"""Streaks of reps from their active days (docs/gamification.md#streaks).

The database gives each rep's active local days (from the daily rollup
``scoring_activitydaily``: a day with a row has at least one event) as a
bitmask; the pure rule ``gamification.rules.streaks.streak_from_mask`` turns
it into current/longest runs under the tenant's ``streak_mode`` and local
today (the same answer as ``streak`` on the list of days).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from core.clock import local_today
from gamification.rules.streaks import Streak, streak_from_mask
from gamification.services.metrics import active_day_masks
from tenants.models import Tenant
from tenants.tenant_settings import settings_get

NO_STREAK = Streak(current=0, longest=0, last_active_day=None, active_today=False)


def reps_streaks(
    *, tenant: Tenant, rep_ids: Sequence[int], today: date | None = None, mode: str | None = None
) -> dict[int, Streak]:
    """Streaks of many reps at once: one query for every rep's active days.

    ``today`` defaults to the tenant's local today and ``mode`` to its
    ``streak_mode``; a caller evaluating "as of" a past day passes that day
    (days after it are ignored). Every rep asked for is in the answer; a rep
    without events has no streak.
    """
    if not rep_ids:
        return {}
    today = today or local_today(tenant.timezone)
    mode = mode or settings_get(tenant)["streak_mode"]
    # One query: the reps' rollup rows grouped by rep and 64-day word, OR-ed into masks.
    masks = active_day_masks(rep_ids, today)
    return {
        rep_id: streak_from_mask(masks[rep_id], today=today, mode=mode) if rep_id in masks else NO_STREAK
        for rep_id in rep_ids
    }
