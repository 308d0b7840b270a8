"""Contest values from the stored rollups and snapshots (docs/contests.md#values).

Each participant's value over ``[start_date, min(end_date, today)]`` is one grouped
query over the per-day rollup (``events.*``, ``sum.*``, ``xp``) or two probes of the
snapshots (``.gain``): no replay of raw events. Only a race's ``reached_at`` reads raw
events, and only those of the day on which each rep that reached the target crossed it.

``events.<type>`` and ``xp`` count a day's events under the tenant's daily caps
(``min(count, N)``, docs/gamification.md#daily-caps-fair-play) through ``day_count_sql``:
nothing else here reads ``n``. A race's crossing event counts, of each type and day, only the
first N events (by ``occurred_at``, then id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.db import connection
from gamification.fair_play import capped_count_sql, daily_caps
from gamification.models import Contest
from gamification.rules.contests import Metric, metric_parse
from gamification.services.xp import xp_table
from scoring.engine import round2
from scoring.services.config import scoring_config_current
from tenants.models import Tenant
from tenants.tenant_settings import settings_get


@dataclass(frozen=True)
class Participant:
    rep_id: int
    external_id: str
    name: str
    team_id: int | None


@dataclass(frozen=True)
class Measured:
    values: dict[int, float]  # rep id -> value (0 without data)
    reached_at: dict[int, datetime]  # races: rep id -> when it reached the target


def day_count_sql(alias: str = "d", cap: str = "%(cap)s") -> str:
    """A rollup row's count of events as the ``events.*`` and ``xp`` metrics count it: under the
    type's daily cap (``cap``, an SQL expression bound to the cap, or NULL for no cap)."""
    return capped_count_sql(f"{alias}.n", cap)


def participants_of(contest: Contest) -> list[Participant]:
    """The active reps ``participants`` names now, by external id."""
    form = contest.participants
    sql = "SELECT id, external_id, name, team_id FROM scoring_rep WHERE active"
    params: list[Any] = []
    if "teams" in form:
        sql += " AND team_id = ANY(%s)"
        params.append(list(form["teams"]))
    elif "reps" in form:
        sql += " AND external_id = ANY(%s)"
        params.append(list(form["reps"]))
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY external_id", params)
        return [Participant(*row) for row in cursor.fetchall()]


def period_of(contest: Contest, today: date) -> tuple[date, date]:
    """The days counted so far: ``[start_date, min(end_date, today)]`` (empty before it starts)."""
    return contest.start_date, min(contest.end_date, today)


def contest_measure(*, tenant: Tenant, contest: Contest, rep_ids: Sequence[int], today: date) -> Measured:
    """Every participant's value (and, in a race, when it reached the target)."""
    metric = metric_parse(contest.metric)
    if metric is None:
        raise ValueError(f"not a contest metric: {contest.metric!r}")
    start, last = period_of(contest, today)
    reps = list(rep_ids)
    if not reps or last < start:
        return Measured({rep: 0.0 for rep in reps}, {})
    if metric.family == "gain":
        values, gains = _gains(reps, metric.arg, start, last)
    else:
        values = _rollup_values(tenant, metric, reps, start, last)
    reached: dict[int, datetime] = {}
    if contest.kind == Contest.Kind.RACE and contest.target is not None:
        target = float(contest.target)
        if metric.family == "gain":
            reached = _gain_reached(gains, target, ZoneInfo(tenant.timezone))
        else:
            crossing = [rep for rep in reps if round2(values.get(rep, 0.0)) >= round2(target)]
            reached = _event_reached(tenant, metric, crossing, start, last, target)
    return Measured({rep: values.get(rep, 0.0) for rep in reps}, reached)


# --- events.*, sum.*, xp: the daily rollup ---------------------------------------------------------------


def _xp_params(tenant: Tenant) -> dict[str, Any]:
    """The XP per type and each type's daily cap (None: none), as arrays for ``XP_UNNEST``."""
    table = xp_table(scoring_config_current().config, settings_get(tenant)["xp_per_type"])
    caps = daily_caps(tenant)
    types = sorted(table)
    return {
        "xp_types": types,
        "xp_points": [table[t] for t in types],
        "xp_caps": [caps.get(t) for t in types],
    }


XP_UNNEST = (
    "unnest(%(xp_types)s::varchar[], %(xp_points)s::bigint[], %(xp_caps)s::integer[]) AS x(type, xp, cap)"
)


def _cap_params(tenant: Tenant, metric: Metric) -> dict[str, Any]:
    """``cap``: the daily cap of an ``events.<type>`` metric's type (None: none; unused otherwise)."""
    return {"cap": daily_caps(tenant).get(metric.arg) if metric.family == "events" else None}


def _day_amount_sql(metric: Metric) -> tuple[str, str]:
    """What a rollup row adds to the value, and the join/filter selecting its rows."""
    if metric.family == "events":
        return f"{day_count_sql()}::float8", "AND d.type = %(type)s"
    if metric.family == "sum":
        return "d.total", "AND d.type = %(type)s"
    return (
        f"({day_count_sql(cap='x.cap')} * x.xp)::float8",
        "AND d.type = x.type",
    )


def _rollup_values(
    tenant: Tenant, metric: Metric, reps: list[int], start: date, last: date
) -> dict[int, float]:
    amount, condition = _day_amount_sql(metric)
    params: dict[str, Any] = {"reps": reps, "start": start, "last": last, "type": metric.arg}
    params |= _cap_params(tenant, metric)
    source = "scoring_activitydaily d"
    if metric.family == "xp":
        source += f" JOIN {XP_UNNEST} ON true"
        params |= _xp_params(tenant)
    sql = (
        f"SELECT d.rep_id, sum({amount}) FROM {source} "  # noqa: S608 (fixed fragments)
        f"WHERE d.rep_id = ANY(%(reps)s) AND d.day BETWEEN %(start)s AND %(last)s {condition} "
        "GROUP BY d.rep_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {rep: float(value or 0.0) for rep, value in cursor.fetchall()}


def _event_reached(
    tenant: Tenant, metric: Metric, reps: list[int], start: date, last: date, target: float
) -> dict[int, datetime]:
    """For reps whose value reached ``target``: the ``occurred_at`` of the event with which
    their running value first became >= target (events by occurred_at, then id).

    The day of the crossing comes from the rollup (running totals per day); only that day's
    events of each such rep are read, with a running sum over them."""
    if not reps:
        return {}
    amount, condition = _day_amount_sql(metric)
    params: dict[str, Any] = {
        "reps": reps, "start": start, "last": last, "type": metric.arg, "target": target,
    }  # fmt: skip
    params |= _cap_params(tenant, metric)
    source = "scoring_activitydaily d"
    event_join, event_amount = "", "a.value" if metric.family == "sum" else "1"
    # Of each type and day, the events past the cap count for nothing (sum.* has no cap).
    event_cap = {"events": "%(cap)s::integer", "xp": "x.cap"}.get(metric.family, "NULL::integer")
    if metric.family == "xp":
        params |= _xp_params(tenant)
        source += f" JOIN {XP_UNNEST} ON true"
        event_join, event_amount = f"JOIN {XP_UNNEST} ON x.type = a.type", "x.xp"
    event_filter = "" if metric.family == "xp" else "AND a.type = %(type)s"
    sql = f"""
    WITH days AS (
        SELECT d.rep_id, d.day,
               sum(sum({amount})) OVER (PARTITION BY d.rep_id ORDER BY d.day) AS running,
               sum(sum({amount})) OVER (PARTITION BY d.rep_id ORDER BY d.day) - sum({amount}) AS before
          FROM {source}
         WHERE d.rep_id = ANY(%(reps)s) AND d.day BETWEEN %(start)s AND %(last)s {condition}
         GROUP BY d.rep_id, d.day
    ),
    crossing AS (
        SELECT DISTINCT ON (rep_id) rep_id, day, before FROM days
         WHERE round(running::numeric, 2) >= round(%(target)s::numeric, 2)
         ORDER BY rep_id, day
    )
    SELECT c.rep_id, e.occurred_at FROM crossing c
     CROSS JOIN LATERAL (
        SELECT occurred_at FROM (
            SELECT u.occurred_at, u.id,
                   c.before + sum(u.amount) OVER (ORDER BY u.occurred_at, u.id) AS running
              FROM (
                SELECT a.occurred_at, a.id,
                       CASE WHEN row_number() OVER (PARTITION BY a.type ORDER BY a.occurred_at, a.id)
                                 <= COALESCE({event_cap}, 2147483647)
                            THEN {event_amount} ELSE 0 END AS amount
                  FROM scoring_activity a {event_join}
                 WHERE a.rep_id = c.rep_id AND a.local_day = c.day {event_filter}
              ) u
        ) s
         WHERE round(s.running::numeric, 2) >= round(%(target)s::numeric, 2)
         ORDER BY s.occurred_at, s.id LIMIT 1
     ) e
    """  # noqa: S608 (fixed fragments)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {rep: at for rep, at in cursor.fetchall()}


# --- ssi.gain, pillar.*.gain: the snapshots ---------------------------------------------------------------

_GAIN_COLUMNS = frozenset({"ssi", "brand", "find", "engage", "relationships"})


def _gains(
    reps: list[int], column: str, start: date, last: date
) -> tuple[dict[int, float], dict[int, list[tuple[date, float]]]]:
    """Each rep's gain on the last scored day of the period, and its gain on every scored day
    (for races): a score minus the rep's score the day before ``start`` (0 without one).
    Scores count as the API shows them, rounded to 2 decimals."""
    if column not in _GAIN_COLUMNS:
        raise ValueError(column)
    sql = f"""
    SELECT s.rep_id, s.day, s.{column}, b.{column}
      FROM scoring_scoresnapshot s
      JOIN scoring_scoredday sd ON sd.day = s.day
      LEFT JOIN scoring_scoresnapshot b ON b.rep_id = s.rep_id AND b.day = %(before)s
     WHERE s.rep_id = ANY(%(reps)s) AND s.day BETWEEN %(start)s AND %(last)s
     ORDER BY s.rep_id, s.day
    """  # noqa: S608 (a fixed column name)
    series: dict[int, list[tuple[date, float]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"reps": reps, "start": start, "last": last, "before": start - timedelta(days=1)})
        for rep, day, score, before in cursor.fetchall():
            gain = round2(score) - (round2(before) if before is not None else 0.0)
            series.setdefault(rep, []).append((day, gain))
    return {rep: points[-1][1] for rep, points in series.items()}, series


def _gain_reached(
    series: dict[int, list[tuple[date, float]]], target: float, zone: ZoneInfo
) -> dict[int, datetime]:
    """The local midnight ending the first scored day whose gain reached ``target``."""
    reached: dict[int, datetime] = {}
    for rep, points in series.items():
        for day, gain in points:
            if round2(gain) >= round2(target):
                reached[rep] = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
                break
    return reached
