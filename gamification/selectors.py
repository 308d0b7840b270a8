"""Gamification reads for the API and the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, QuerySet

from core.clock import local_today
from core.db import connection, model_columns, model_from_row, prepared_cursor
from gamification.leaderboards import round2_sql
from gamification.models import Badge, BadgeAward, Goal
from gamification.rules.levels import level_for
from gamification.rules.streaks import Streak, streak
from gamification.services.streaks import NO_STREAK, reps_streaks
from gamification.services.xp import thresholds_of
from scoring.engine import round2
from scoring.models import Rep, ScoredDay, ScoreSnapshot
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


# --- The reps list (the console's Reps page) ---------------------------------------------

REP_SORTS = ("ssi", "xp", "streak", "change")
SPARK_DAYS = 30
CHANGE_DAYS = 7


@dataclass(frozen=True)
class RepListRow:
    """A rep as the reps list shows it: its latest snapshot's SSI (``day``), that SSI less the
    SSI of ``CHANGE_DAYS`` days before it (both rounded to 2 decimals, as the API shows them;
    None without either snapshot), XP, level, streak and the SSI of the list's spark days."""

    id: int
    external_id: str
    name: str
    email: str
    active: bool
    team_id: int | None
    team_name: str
    day: date | None
    ssi: float | None
    change: float | None
    xp: int
    level: int
    streak: Streak
    spark: list[float | None]


@dataclass(frozen=True)
class RepListPage:
    count: int  # reps matching the filters, on every page
    rows: list[RepListRow]
    spark_days: list[date]  # the days of each row's ``spark``, oldest first


def _like(value: str) -> str:
    """``value`` as a literal ILIKE substring (as Django's ``icontains`` escapes it)."""
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _reps_where(search: str, team_id: int | None) -> tuple[str, list[Any]]:
    """The list's filters on the rep ``r``: ``search`` in its external_id, name or email (as the
    API's ``?search=``), and its team."""
    where: list[str] = ["true"]
    params: list[Any] = []
    if search:
        where.append("(r.external_id ILIKE %s OR r.name ILIKE %s OR r.email ILIKE %s)")
        params += [_like(search)] * 3
    if team_id is not None:
        where.append("r.team_id = %s")
        params.append(team_id)
    return " AND ".join(where), params


# The list's columns: the rep, its team, its latest snapshot (as the card's, ``snapshot_join``)
# and the snapshot ``CHANGE_DAYS`` before that one. A backward index probe per rep, as the card
# makes, costs most of a page at 10,000 reps; nearly every rep's latest snapshot is the latest
# scored day's, so those (and their week-before's) are joined by that day (params: the day and
# the day ``CHANGE_DAYS`` before), and only a rep without one is probed (``sd.id IS NULL`` is
# a one-time filter of its subquery: no probe for the others).
_ROWS_SQL = f"""
    SELECT r.id, r.external_id, r.name, r.email, r.active, r.team_id, t.name, r.xp,
           coalesce(sd.day, so.day),
           {round2_sql("coalesce(sd.ssi, so.ssi)")} AS ssi,
           {round2_sql("coalesce(sd.ssi, so.ssi)")} - {round2_sql("coalesce(wd.ssi, wo.ssi)")} AS change
      FROM scoring_rep r
      LEFT JOIN scoring_team t ON t.id = r.team_id
      LEFT JOIN scoring_scoresnapshot sd ON sd.rep_id = r.id AND sd.day = %s
      LEFT JOIN scoring_scoresnapshot wd ON wd.rep_id = r.id AND wd.day = %s
      LEFT JOIN LATERAL (
          SELECT s.day, s.ssi FROM scoring_scoresnapshot s
           WHERE sd.id IS NULL AND s.rep_id = r.id ORDER BY s.day DESC LIMIT 1) so ON true
      LEFT JOIN LATERAL (
          SELECT w.ssi FROM scoring_scoresnapshot w
           WHERE sd.id IS NULL AND w.rep_id = r.id AND w.day = so.day - {CHANGE_DAYS} LIMIT 1) wo ON true
     WHERE {{where}}
     {{tail}}
"""  # noqa: S608 (only fixed fragments are interpolated)
_ORDER = {"ssi": "ssi", "xp": "r.xp", "change": "change"}


def reps_page(
    *,
    tenant: Tenant,
    search: str = "",
    team_id: int | None = None,
    sort: str = "ssi",
    descending: bool = True,
    offset: int = 0,
    limit: int = 50,
) -> RepListPage:
    """A page of the tenant's reps (active or not), filtered, sorted by ``sort`` (one of
    ``REP_SORTS``; reps without a value last either way, ties by external_id) and paged, in
    a fixed number of queries whatever the page size.

    SSI, XP and change are sorted and paged by the database. A streak is a rule of
    ``gamification.rules.streaks`` on the rep's active days, not a column: sorting by it
    reads the active days of every matching rep in one scan (``reps_streaks``) and pages in
    memory. Each page's streaks and sparklines are one query each, for its reps only.
    """
    if sort not in REP_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    where, params = _reps_where(search, team_id)
    last = ScoredDay.objects.order_by("-day").values_list("day", flat=True).first()
    days = [last, last - timedelta(days=CHANGE_DAYS)] if last else [None, None]
    streaks: dict[int, Streak] = {}
    with connection.cursor() as cursor:
        if sort == "streak":
            cursor.execute(f"SELECT r.id FROM scoring_rep r WHERE {where} ORDER BY r.external_id", params)  # noqa: S608
            matching = [row[0] for row in cursor.fetchall()]
            count = len(matching)
            every = reps_streaks(tenant=tenant, rep_ids=matching)
            # A stable sort keeps external_id order among equal streaks, in either direction.
            ordered = sorted(matching, key=lambda rep_id: every[rep_id].current, reverse=descending)
            page_ids = ordered[offset : offset + limit]
            streaks = {rep_id: every[rep_id] for rep_id in page_ids}
            cursor.execute(_ROWS_SQL.format(where="r.id = ANY(%s)", tail=""), [*days, page_ids])
            by_id = {row[0]: row for row in cursor.fetchall()}
            rows = [by_id[rep_id] for rep_id in page_ids]
        else:
            cursor.execute(f"SELECT count(*) FROM scoring_rep r WHERE {where}", params)  # noqa: S608
            count = int(cursor.fetchone()[0])
            order = f"ORDER BY {_ORDER[sort]} {'DESC' if descending else 'ASC'} NULLS LAST, r.external_id"
            if sort == "xp":
                # A column of the rep: the page is chosen before anything is joined to it.
                page_where = (
                    f"r.id IN (SELECT r.id FROM scoring_rep r WHERE {where} {order} LIMIT %s OFFSET %s)"  # noqa: S608
                )
                sql = _ROWS_SQL.format(where=page_where, tail=order)
            else:
                sql = _ROWS_SQL.format(where=where, tail=f"{order} LIMIT %s OFFSET %s")
            cursor.execute(sql, [*days, *params, limit, offset])
            rows = cursor.fetchall()
    page_ids = [row[0] for row in rows]
    if not streaks:
        streaks = reps_streaks(tenant=tenant, rep_ids=page_ids)
    spark_days, sparks = _sparks(page_ids, last)
    thresholds = thresholds_of(tenant)
    return RepListPage(
        count=count,
        rows=[
            RepListRow(
                id=rep_id,
                external_id=external_id,
                name=name,
                email=email,
                active=active,
                team_id=team,
                team_name=team_name or "",
                day=day,
                ssi=None if ssi is None else float(ssi),
                change=None if change is None else float(change),
                xp=int(xp),
                level=level_for(xp, thresholds),
                streak=streaks.get(rep_id, NO_STREAK),
                spark=sparks.get(rep_id, [None] * len(spark_days)),
            )
            for rep_id, external_id, name, email, active, team, team_name, xp, day, ssi, change in rows
        ],
        spark_days=spark_days,
    )


def _sparks(rep_ids: list[int], last: date | None) -> tuple[list[date], dict[int, list[float | None]]]:
    """The ``SPARK_DAYS`` days up to ``last`` (the latest scored day), and each rep's SSI on them
    (rounded as the API shows it; None on a day without a snapshot). One query for all the reps."""
    if last is None or not rep_ids:
        return [], {}
    days = [last - timedelta(days=SPARK_DAYS - 1 - i) for i in range(SPARK_DAYS)]
    index = {day: i for i, day in enumerate(days)}
    sparks: dict[int, list[float | None]] = {rep_id: [None] * SPARK_DAYS for rep_id in rep_ids}
    rows = ScoreSnapshot.objects.filter(rep_id__in=rep_ids, day__gte=days[0], day__lte=last).values_list(
        "rep_id", "day", "ssi"
    )
    for rep_id, day, ssi in rows:
        sparks[rep_id][index[day]] = round2(ssi)
    return days, sparks
