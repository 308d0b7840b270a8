"""Gamification reads for the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from core.clock import local_today
from core.db import model_columns, model_from_row, prepared_cursor
from gamification.models import Badge, BadgeAward, Goal
from gamification.rules.streaks import Streak, streak
from gamification.services.streaks import NO_STREAK
from scoring.models import Rep
from scoring.read import SNAPSHOT_COLUMNS, snapshot_body_from_row, snapshot_join
from tenants.models import Tenant
from tenants.tenant_settings import settings_get


@dataclass(frozen=True)
class RepCard:
    rep: Rep
    streak: Streak
    ssi: dict[str, Any] | None  # the latest snapshot's SSI object (scoring.read.snapshot_body)
    badges: int


def rep_card_get(*, tenant: Tenant, external_id: str) -> RepCard | None:
    """The rep card's data (docs/api.md#the-rep-card), or None when there is no such rep.

    One query: the rep, its active days up to the tenant's local today (the streak), its
    badge count and its latest snapshot with that day's averages (``scoring.read``'s
    ``snapshot_body``, as ``/ssi`` shows it).
    """
    today = local_today(tenant.timezone)
    columns = model_columns(Rep, table_alias="r")
    sql = f"""
        SELECT {columns},
               (SELECT array_agg(DISTINCT a.day) FROM scoring_activitydaily a
                 WHERE a.rep_id = r.id AND a.day <= %s),
               (SELECT count(*) FROM gamification_badgeaward b WHERE b.rep_id = r.id),
               {SNAPSHOT_COLUMNS}
          FROM scoring_rep r {snapshot_join(on_day=False)}
         WHERE r.external_id = %s
    """  # noqa: S608 (only fixed fragments are interpolated)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [today, external_id])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(Rep._meta.concrete_fields)
    rep = model_from_row(Rep, row[:n])
    days, badges = row[n], row[n + 1]
    mode = settings_get(tenant)["streak_mode"]
    return RepCard(
        rep=rep,
        streak=streak(days, today=today, mode=mode) if days else NO_STREAK,
        ssi=snapshot_body_from_row(row[n + 2 :], rep.external_id),
        badges=int(badges),
    )


def badges_with_holders() -> QuerySet[Badge]:
    """Every badge definition, in id order, with ``holders``: how many reps hold an award of it
    (counted by the database, in the same query)."""
    return Badge.objects.annotate(holders=Count("awards__rep", distinct=True)).order_by("id")


def award_feed() -> QuerySet[BadgeAward]:
    """The tenant's badge awards, newest first, with their rep and badge (``GET /api/v1/awards``
    and the console's recent awards): a queryset, so each reader filters and pages it in SQL."""
    return BadgeAward.objects.select_related("rep", "badge").order_by("-id")


def goals_list() -> QuerySet[Goal]:
    """Every goal, in id order, each with its rep or team (``/api/v1/goals``)."""
    return Goal.objects.select_related("rep", "team").order_by("id")
