"""One rep's page, shared by the reps section (``/console/reps/<id>``, members) and a rep's
own page (``/console/me``, a rep token's session): what ``_rep_detail.html`` renders.

Every figure comes from the reads the API's rep endpoints use: the rep card
(``gamification.selectors.rep_card_get``: latest SSI with ranks, XP, streak), the SSI history
and explanation (``scoring.read``), the rep's awards, its goals with progress
(``gamification.services.goals.goals_view``) and its active days
(``gamification.services.metrics.active_day_masks``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q

from console.charts import LineChart, Series
from core.clock import local_today
from gamification.models import BadgeAward, Goal
from gamification.rules.levels import level_for
from gamification.rules.streaks import counted
from gamification.selectors import rep_card_get
from gamification.services.goals import goals_view
from gamification.services.metrics import active_day_masks
from gamification.services.streaks import NO_STREAK
from gamification.services.xp import thresholds_of
from scoring.engine import PILLARS
from scoring.engine.catalog import PILLAR_NAMES
from scoring.models import Rep
from scoring.read import rep_explain, rep_history
from tenants.tenant_settings import settings_get

TREND_DAYS = 90
CALENDAR_WEEKS = 12
BADGES_SHOWN = 100
PILLAR_LABELS = {"brand": "Brand", "find": "Find", "engage": "Engage", "relationships": "Relationships"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class CalendarDay:
    day: date
    state: str  # "active" | "inactive" | "future"
    label: str  # the day in words, e.g. "2026-11-03: active"


def rep_detail_context(rep: Rep) -> dict[str, object]:
    """Everything ``console/_rep_detail.html`` shows of ``rep``: its latest SSI with its ranks
    (as ``GET /reps/{id}/ssi``), the SSI and pillars over ``TREND_DAYS`` days, the latest
    day's explanation and recommendations (as ``/ssi/explain``), badges, goals with progress,
    and a streak calendar of ``CALENDAR_WEEKS`` weeks."""
    tenant = connection.tenant  # type: ignore[attr-defined]
    card = rep_card_get(tenant=tenant, external_id=rep.external_id)
    ssi = card.ssi if card else None
    streak = card.streak if card else NO_STREAK
    explanation = rep_explain(rep, None, tenant.timezone) if ssi else None
    goals = Goal.objects.filter(Q(rep=rep) | Q(team_id=rep.team_id, team__isnull=False)).order_by(
        "end_date", "id"
    )
    awards = BadgeAward.objects.filter(rep=rep).select_related("badge").order_by("-awarded_at", "-id")
    return {
        "rep": rep,
        "team": rep.team.name if rep.team_id and rep.team else "",
        "ssi": ssi,
        "pillars": [(PILLAR_LABELS[p], ssi["pillars"][p]) for p in PILLARS] if ssi else [],
        "level": level_for(rep.xp, thresholds_of(tenant)),
        "streak": streak,
        "trend": _trend(rep, ssi["date"]) if ssi else None,
        "explanation": _explained(explanation) if explanation else [],
        "recommendations": [
            {**r, "pillar_label": PILLAR_LABELS[r["pillar"]]}
            for r in (explanation or {}).get("recommendations", [])
        ],
        "awards": [(award, _local_day(award.awarded_at, tenant.timezone)) for award in awards[:BADGES_SHOWN]],
        "goals": [_goal(view) for view in goals_view(tenant=tenant, goals=list(goals))],
        "weekdays": WEEKDAYS,
        "calendar": _calendar(rep, local_today(tenant.timezone), settings_get(tenant)["streak_mode"]),
    }


def _local_day(moment: datetime, tz_name: str) -> date:
    """The tenant's local day of ``moment`` (the day a rep lives it)."""
    return moment.astimezone(ZoneInfo(tz_name)).date()


def _trend(rep: Rep, last: date) -> LineChart:
    """The SSI and its four pillars on the ``TREND_DAYS`` days up to the latest snapshot."""
    days = [last - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS)]
    by_day = {s["date"]: s for s in rep_history(rep, days[0], last)}
    series = [Series("SSI", [by_day[d]["ssi"] if d in by_day else None for d in days])]
    series += [
        Series(PILLAR_LABELS[p], [by_day[d]["pillars"][p] if d in by_day else None for d in days])
        for p in PILLARS
    ]
    return LineChart(
        id="rep-trend",
        title=f"SSI and its pillars, {TREND_DAYS} days to {last:%Y-%m-%d}",
        days=days,
        series=series,
        range=(0, 100),
    )


def _explained(explanation: dict[str, Any]) -> list[dict[str, Any]]:
    """The explanation's signals grouped by pillar, in pillar order, with the pillar's score."""
    return [
        {
            "key": p,
            "label": PILLAR_LABELS[p],
            "name": PILLAR_NAMES[p],
            "score": explanation["pillars"][p],
            "signals": [s for s in explanation["signals"] if s["pillar"] == p],
        }
        for p in PILLARS
    ]


def _goal(view: Any) -> dict[str, Any]:
    goal = view.goal
    current = None if view.current is None else round(view.current, 2)
    return {
        "goal": goal,
        "current": current,
        "percent": round(100 * view.progress),
        "progress": round(view.progress, 4),
        "owner": "Team goal" if goal.team_id else "Own goal",
    }


def _calendar(rep: Rep, today: date, mode: str) -> list[tuple[date, list[CalendarDay]]]:
    """The last ``CALENDAR_WEEKS`` weeks (Monday to Sunday, this week last) as rows of days,
    each active (an event that local day) or not, from the rep's active days."""
    mask = active_day_masks([rep.pk], today).get(rep.pk, 0)
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=CALENDAR_WEEKS - 1)
    weeks = []
    for week in range(CALENDAR_WEEKS):
        start = monday + timedelta(weeks=week)
        days = []
        for offset in range(7):
            day = start + timedelta(days=offset)
            if day > today:
                days.append(CalendarDay(day, "future", f"{day:%Y-%m-%d}: not yet"))
                continue
            active = bool(mask >> (today - day).days & 1)
            state = "active" if active else "inactive"
            note = "" if counted(day, mode) else " (weekend, not counted)"
            days.append(CalendarDay(day, state, f"{day:%Y-%m-%d}: {state}{note}"))
        weeks.append((start, days))
    return weeks
