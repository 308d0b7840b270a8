"""Metric values for many reps at once (gamification.md, "Metrics").

``metrics_load`` answers every metric a set of criteria needs, for a set of
reps, as of a local day, with one set-based query per metric family; rules
are then evaluated in memory. A metric with no value (no snapshot yet) is
None, which makes its criteria leaf false.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from gamification.rules.criteria import MetricRef
from gamification.rules.levels import level_for
from scoring.engine import PILLARS, round2
from scoring.models import Rep
from tenants.db import connection
from tenants.models import Tenant
from tenants.tenant_settings import settings_get

Values = dict[int, dict[MetricRef, float | None]]

SNAPSHOT_COLUMNS = {
    "ssi": "ssi",
    **{f"pillar.{p}": p for p in PILLARS},
    "rank.top_percent": "tenant_top_percent",
    "rank.team_top_percent": "team_top_percent",
}


def metrics_load(
    *,
    tenant: Tenant,
    rep_ids: Sequence[int],
    refs: Iterable[MetricRef],
    day: date,
    period_start: date | None = None,
) -> Values:
    """Values of ``refs`` for ``rep_ids`` as of local ``day``.

    ``events.*``/``sum.*`` count the last ``window_days`` days up to ``day``
    (today included), all time without a window, or from ``period_start``
    when given (a goal's period).
    """
    refs = set(refs)
    out: Values = {rep: {} for rep in rep_ids}
    if not rep_ids or not refs:
        return out
    reps = list(rep_ids)
    names = {ref.name for ref in refs}
    settings = settings_get(tenant)

    if names & SNAPSHOT_COLUMNS.keys():
        _snapshot_metrics(out, reps, refs, day)
    if names & {"xp", "level"}:
        thresholds = settings["level_thresholds"]
        for rep_id, xp in Rep.objects.filter(id__in=reps).values_list("id", "xp"):
            for ref in refs:
                if ref.name == "xp":
                    out[rep_id][ref] = float(xp)
                elif ref.name == "level":
                    out[rep_id][ref] = float(level_for(xp, thresholds))
    if names & {"streak.current", "streak.longest"}:
        from gamification.services.streaks import reps_streaks

        streaks = reps_streaks(tenant=tenant, rep_ids=reps, today=day, mode=settings["streak_mode"])
        for rep_id, s in streaks.items():
            for ref in refs:
                if ref.name == "streak.current":
                    out[rep_id][ref] = float(s.current)
                elif ref.name == "streak.longest":
                    out[rep_id][ref] = float(s.longest)
    _event_metrics(out, reps, refs, day, period_start)
    _state_metrics(out, reps, refs, day)
    if "badges" in names:
        counts = _counts(
            "SELECT rep_id, count(*) FROM gamification_badgeaward WHERE rep_id = ANY(%s) GROUP BY rep_id",
            reps,
        )
        _fill(out, refs, "badges", counts)
    if "goals.achieved" in names:
        counts = _counts(
            "SELECT rep_id, count(*) FROM gamification_goal WHERE rep_id = ANY(%s) AND status = 'achieved' "
            "GROUP BY rep_id",
            reps,
        )
        _fill(out, refs, "goals.achieved", counts)
    return out


def active_days(rep_ids: Sequence[int], day: date) -> dict[int, list[date]]:
    """Each rep's active local days up to ``day`` (a day with any event)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rep_id, array_agg(DISTINCT day) FROM scoring_activitydaily "
            "WHERE rep_id = ANY(%s) AND day <= %s GROUP BY rep_id",
            [list(rep_ids), day],
        )
        return {rep_id: days for rep_id, days in cursor.fetchall()}


def _fill(out: Values, refs: set[MetricRef], name: str, counts: dict[int, int]) -> None:
    for ref in refs:
        if ref.name == name:
            for rep_id in out:
                out[rep_id][ref] = float(counts.get(rep_id, 0))


def _counts(sql: str, reps: list[int]) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [reps])
        return dict(cursor.fetchall())


def _snapshot_metrics(out: Values, reps: list[int], refs: set[MetricRef], day: date) -> None:
    """The rep's latest snapshot on or before ``day``; None without one."""
    wanted = [ref for ref in refs if ref.name in SNAPSHOT_COLUMNS]
    columns = sorted({SNAPSHOT_COLUMNS[ref.name] for ref in wanted})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT ON (rep_id) rep_id, {', '.join(columns)} FROM scoring_scoresnapshot "  # noqa: S608 (fixed column names)
            "WHERE rep_id = ANY(%s) AND day <= %s ORDER BY rep_id, day DESC",
            [reps, day],
        )
        latest = {row[0]: dict(zip(columns, row[1:], strict=True)) for row in cursor.fetchall()}
    for rep_id in reps:
        row = latest.get(rep_id)
        for ref in wanted:
            value = None if row is None else row[SNAPSHOT_COLUMNS[ref.name]]
            if value is not None and not ref.name.startswith("rank."):
                value = round2(value)
            out[rep_id][ref] = None if value is None else float(value)


def _event_metrics(
    out: Values, reps: list[int], refs: set[MetricRef], day: date, period_start: date | None
) -> None:
    by_start: dict[date | None, set[MetricRef]] = defaultdict(set)
    for ref in refs:
        if ref.name.startswith(("events.", "sum.")):
            start = period_start
            if start is None and ref.window_days is not None:
                start = day - timedelta(days=ref.window_days - 1)
            by_start[start].add(ref)
    for start, group in by_start.items():
        types = sorted({ref.type for ref in group if ref.type})
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rep_id, type, sum(n), sum(total) FROM scoring_activitydaily "
                "WHERE rep_id = ANY(%s) AND type = ANY(%s) AND day <= %s "
                "AND (%s::date IS NULL OR day >= %s::date) GROUP BY rep_id, type",
                [reps, types, day, start, start],
            )
            sums = {(rep_id, t): (n, total) for rep_id, t, n, total in cursor.fetchall()}
        for rep_id in reps:
            for ref in group:
                n, total = sums.get((rep_id, ref.type or ""), (0, 0.0))
                out[rep_id][ref] = float(n if ref.name.startswith("events.") else total)


def _state_metrics(out: Values, reps: list[int], refs: set[MetricRef], day: date) -> None:
    wanted = [ref for ref in refs if ref.name.startswith("state.")]
    if not wanted:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (rep_id, type) rep_id, type, last_value FROM scoring_activitydaily "
            "WHERE rep_id = ANY(%s) AND type = ANY(%s) AND day <= %s ORDER BY rep_id, type, day DESC",
            [reps, sorted({ref.type for ref in wanted if ref.type}), day],
        )
        latest = {(rep_id, t): value for rep_id, t, value in cursor.fetchall()}
    for rep_id in reps:
        for ref in wanted:
            out[rep_id][ref] = float(latest.get((rep_id, ref.type or ""), 0.0))
