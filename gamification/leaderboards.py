"""Leaderboards (docs/gamification.md#leaderboards): reps ranked by a metric, by the database.

Metrics: ``ssi`` and ``pillar.<name>`` (the snapshot of ``date``, rounded to 2
decimals as the API shows it; ``period`` does not apply), ``xp`` (XP earned
within the period, from the ``XpDaily`` ledger) and ``events.<type>`` (events
of that type within the period, from the daily rollup, each day's count under
the tenant's daily cap of the type: ``gamification.fair_play``).

Ranking is one statement: ``RANK() OVER (ORDER BY value DESC)`` (competition
ranking: equal values share a rank, the next rank skips) and
``top_percent = ceil(100 * rank / n)`` over the ranked reps. Only active reps
are ranked; for ``xp`` and ``events.*`` every active rep is on the board (0
without data), for ``ssi``/``pillar.*`` those with a snapshot that day.
``team`` ranks the members of that team (its current members) among
themselves. A board is read lazily, a page at a time (``count()`` and
slices), so Django's paginator pages it in SQL.

The tenant-wide ``ssi`` board (no ``team``) usually needs no ranking at all:
the day's recompute stored each snapshot's ``tenant_rank`` (the same
competition ranking of the same 2-decimal values, over the reps it scored:
the active ones) and ``ScoredDay.reps`` (how many). While the day's
snapshots are still exactly the reps it scored (none deleted since: the
deletion clears ``ScoredDay.ranks_current``) and all of them are still
active, the board *is* those snapshots, so a page is an index range of
``(day, tenant_rank)``. When that no longer holds (a rep deactivated or
deleted since) the board is ranked in SQL as every other board is. Both give
the same rows; one query checks it (``_stored_ranks_state``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, overload

from core.clock import local_today
from core.db import connection, prepared_cursor
from core.errors import NotFound, ValidationFailed
from gamification.fair_play import capped_count_sql, daily_caps
from scoring.engine import PILLARS
from scoring.models import ScoredDay, Team
from scoring.services.config import scoring_config_current
from tenants.models import Tenant

PERIODS = ("day", "week", "month", "all")
DEFAULT_PERIOD = "all"
SNAPSHOT_METRICS = {"ssi": "ssi", **{f"pillar.{p}": p for p in PILLARS}}


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "snapshot" | "xp" | "events"
    column: str = ""  # snapshot metrics: the ScoreSnapshot column
    event_type: str = ""  # events.<type>
    daily_cap: int | None = None  # events.<type>: the tenant's cap of the type, if any


@dataclass(frozen=True)
class LeaderboardRow:
    rep_id: int
    external_id: str
    name: str
    value: float | int
    rank: int
    top_percent: int


def metric_parse(name: str, *, event_types: frozenset[str]) -> Metric:
    """A metric by name; an unknown one (or an unknown event type) is a 404 ``unknown_metric``."""
    if name in SNAPSHOT_METRICS:
        return Metric(name=name, kind="snapshot", column=SNAPSHOT_METRICS[name])
    if name == "xp":
        return Metric(name=name, kind="xp")
    if name.startswith("events.") and name.removeprefix("events.") in event_types:
        return Metric(name=name, kind="events", event_type=name.removeprefix("events."))
    raise NotFound(
        "Unknown leaderboard metric: one of ssi, pillar.<brand|find|engage|relationships>, xp, "
        "events.<event type>.",
        code="unknown_metric",
        attr="metric",
    )


def period_bounds(period: str, day: date) -> tuple[date | None, date]:
    """First and last day of the period holding ``day`` (first None: since the beginning).

    ``week`` is the ISO week (Monday to Sunday), ``month`` the calendar month.
    """
    if period == "day":
        return day, day
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if period == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if period == "all":
        return None, day
    raise ValidationFailed(f"Must be one of {', '.join(PERIODS)}.", code="invalid_choice", attr="period")


def round2_sql(column: str) -> str:
    """SQL for ``scoring.engine.round2``: 12 significant digits first (binary noise away),
    then 2 decimals half away from zero, so values show and rank as in the SSI endpoints."""
    return (
        f"CASE WHEN {column} = 0 THEN 0::numeric "
        f"ELSE round(round({column}::numeric, 11 - floor(log(abs({column})))::int), 2) END"
    )


class Leaderboard:
    """One board: ``count()`` reps ranked, read by slices (``board[0:50]``) in rank order
    (then ``external_id``), or one rep's row (``row_of``)."""

    def __init__(
        self,
        *,
        metric: Metric,
        period: str,
        day: date,
        start: date | None,
        end: date,
        team_id: int | None,
        stored_count: int | None = None,
    ) -> None:
        self.metric = metric
        self.period = period
        self.day = day
        self.start = start
        self.end = end
        self.team_id = team_id
        # Set when the day's stored ranks are the board's (see the module docstring): how many
        # reps are on it. None: rank in SQL.
        self.stored_count = stored_count

    def _reps_filter(self) -> tuple[str, list[Any]]:
        if self.team_id is None:
            return "r.active", []
        return "r.active AND r.team_id = %s", [self.team_id]

    def _board(self) -> tuple[str, list[Any]]:
        """SQL of (id, external_id, name, value) for every rep on the board."""
        reps, reps_params = self._reps_filter()
        if self.metric.kind == "snapshot":
            value = round2_sql(f"s.{self.metric.column}")  # a fixed column name (SNAPSHOT_METRICS)
            sql = f"""
                SELECT r.id, r.external_id, r.name, {value} AS value
                  FROM scoring_rep r JOIN scoring_scoresnapshot s ON s.rep_id = r.id AND s.day = %s
                 WHERE {reps}
            """  # noqa: S608 (only fixed fragments are interpolated)
            return sql, [self.day, *reps_params]
        days = "d.day BETWEEN %s AND %s" if self.start is not None else "d.day <= %s"
        days_params: list[Any] = [self.start, self.end] if self.start is not None else [self.end]
        value = "COALESCE(sum({amount}), 0)::bigint"
        amount_params: list[Any] = []
        if self.metric.kind == "xp":
            table, amount, extra, extra_params = "gamification_xpdaily", "d.xp", "", []
            if self.start is None:
                # All XP up to the day = the running total (Rep.xp, which the ledger adds up to:
                # both are written by one statement) less what came after: a few recent rows
                # rather than every rep's whole history. At today it is the card's xp.
                days, days_params, value = (
                    "d.day > %s",
                    [self.end],
                    "(r.xp - COALESCE(sum({amount}), 0))::bigint",
                )
        else:
            table, amount, extra = "scoring_activitydaily", "d.n", "AND d.type = %s"
            extra_params = [self.metric.event_type]
            if self.metric.daily_cap is not None:
                amount, amount_params = capped_count_sql("d.n", "%s"), [self.metric.daily_cap]
        # Every rep of the board, 0 without rows.
        sql = f"""
            SELECT r.id, r.external_id, r.name, {value.format(amount=amount)} AS value
              FROM scoring_rep r
              LEFT JOIN {table} d ON d.rep_id = r.id {extra} AND {days}
             WHERE {reps}
             GROUP BY r.id
        """  # noqa: S608 (only fixed fragments are interpolated)
        return sql, [*amount_params, *extra_params, *days_params, *reps_params]

    def _ranked(self, tail: str, tail_params: list[Any]) -> list[LeaderboardRow]:
        board, params = self._board()
        sql = f"""
            WITH board AS ({board}),
            ranked AS (
                SELECT id, external_id, name, value,
                       RANK() OVER (ORDER BY value DESC) AS rank, count(*) OVER () AS n
                  FROM board
            )
            SELECT id, external_id, name, value, rank, ceil(100.0 * rank / n)::int
              FROM ranked {tail}
        """  # noqa: S608 (only fixed fragments are interpolated)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *tail_params])
            rows = cursor.fetchall()
        return self._rows(rows)

    def _stored(self, tail: str, tail_params: list[Any]) -> list[LeaderboardRow] | None:
        """Rows from the snapshots' stored ``tenant_rank`` (only when ``stored_count`` is set);
        None if a row shows the ranks are not the board's after all (the caller ranks in SQL)."""
        n = self.stored_count
        assert n is not None
        value = round2_sql("s.ssi")
        sql = f"""
            SELECT r.id, r.external_id, r.name, {value} AS value, s.tenant_rank,
                   ceil(100.0 * s.tenant_rank / %s)::int, s.tenant_of
              FROM scoring_scoresnapshot s JOIN scoring_rep r ON r.id = s.rep_id
             WHERE s.day = %s {tail}
        """  # noqa: S608 (only fixed fragments are interpolated)
        with prepared_cursor() as cursor:
            cursor.execute(sql, [n, self.day, *tail_params])
            rows = cursor.fetchall()
        # Every snapshot of a day is written by one recompute with the same tenant_of.
        if any(row[6] != n for row in rows):
            self.stored_count = None
            return None
        return self._rows([row[:6] for row in rows])

    def _rows(self, rows: list[tuple[Any, ...]]) -> list[LeaderboardRow]:
        as_number = float if self.metric.kind == "snapshot" else int
        return [
            LeaderboardRow(
                rep_id=rep_id,
                external_id=external_id,
                name=name,
                value=as_number(value),
                rank=rank,
                top_percent=top,
            )
            for rep_id, external_id, name, value, rank, top in rows
        ]

    def count(self) -> int:
        """How many reps are ranked (the ``n`` of top_percent)."""
        if self.stored_count is not None:
            return self.stored_count
        reps, params = self._reps_filter()
        if self.metric.kind == "snapshot":
            sql = f"""
                SELECT count(*) FROM scoring_rep r
                  JOIN scoring_scoresnapshot s ON s.rep_id = r.id AND s.day = %s
                 WHERE {reps}
            """  # noqa: S608 (only fixed fragments are interpolated)
            params = [self.day, *params]
        else:
            sql = f"SELECT count(*) FROM scoring_rep r WHERE {reps}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0])

    @overload
    def __getitem__(self, index: int) -> LeaderboardRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[LeaderboardRow]: ...

    def __getitem__(self, index: int | slice) -> LeaderboardRow | list[LeaderboardRow]:
        if isinstance(index, int):
            rows = self[index : index + 1]
            if not rows:
                raise IndexError(index)
            return rows[0]
        start, stop = index.start or 0, index.stop
        if index.step not in (None, 1) or start < 0 or (stop is not None and stop < 0):
            raise ValueError("Only forward slices of a leaderboard.")
        if stop is not None and stop <= start:
            return []
        limit = "LIMIT %s" if stop is not None else ""
        params = [stop - start] if stop is not None else []
        if self.stored_count is not None:
            # The index (day, tenant_rank) gives the order; ties are sorted by external_id.
            page = self._stored(f"ORDER BY s.tenant_rank, r.external_id {limit} OFFSET %s", [*params, start])
            if page is not None:
                return page
        return self._ranked(f"ORDER BY rank, external_id {limit} OFFSET %s", [*params, start])

    def row_of(self, rep_id: int) -> LeaderboardRow | None:
        """The rep's row (rank among the whole board), or None when it is not on the board."""
        if self.stored_count is not None:
            # Every rep with a snapshot that day is active (that is when stored_count is set).
            stored = self._stored("AND s.rep_id = %s", [rep_id])
            if stored is not None:
                return stored[0] if stored else None
        rows = self._ranked("WHERE id = %s", [rep_id])
        return rows[0] if rows else None


def _stored_ranks_state(day: date | None) -> tuple[date, int | None] | None:
    """The scored day (``day``, or the latest when None) and, when its snapshots' stored
    ``tenant_rank`` are the tenant-wide ssi board, how many reps are on it (else None).
    None when that day is not scored. One query.

    The stored ranks were computed by the day's recompute over the reps it scored (every rep
    active then: ``ScoredDay.reps`` of them). They are still the board's when:

    * no snapshot of the day is gone: a deleted rep's go with it, and its deletion clears
      ``ranks_current`` (counting the day's snapshots instead cost more than the rest of
      the request);
    * the snapshots are the recompute's: its ``tenant_of`` is the day's ``reps`` (snapshots
      written otherwise, by hand, fail this);
    * every rep with a snapshot is still active (checked here, so a rep deactivated while
      the recompute ran is caught too).

    Reps created or reactivated since have no snapshot that day, so they are on neither.
    """
    where, params = ("d.day = %s", [day]) if day is not None else ("true", [])
    sql = f"""
        SELECT d.day, d.reps,
               d.ranks_current AND (SELECT s.tenant_of FROM scoring_scoresnapshot s
                                     WHERE s.day = d.day ORDER BY s.tenant_rank LIMIT 1) = d.reps,
               EXISTS (SELECT 1 FROM scoring_rep r JOIN scoring_scoresnapshot s
                                ON s.rep_id = r.id AND s.day = d.day
                        WHERE NOT r.active)
          FROM scoring_scoredday d
         WHERE {where}
         ORDER BY d.day DESC LIMIT 1
    """  # noqa: S608 (only a fixed fragment is interpolated)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    scored_day, reps, current, inactive = row
    return scored_day, (reps if current and not inactive else None)


def leaderboard_get(
    *,
    tenant: Tenant,
    metric: str,
    period: str | None = None,
    day: date | None = None,
    team: int | None = None,
) -> Leaderboard:
    """The board of ``metric``; checks its arguments (each error names its parameter).

    ``day`` defaults to the latest scored day; for ``xp`` and ``events.*``
    before any day is scored, to the tenant's local today. ``ssi``/``pillar.*``
    with no scored day at all is a 404 ``no_snapshot``.
    """
    # Only events.* needs the tenant's event types (its config).
    types = scoring_config_current().config.event_types if metric.startswith("events.") else frozenset()
    parsed = metric_parse(metric, event_types=types)
    if parsed.kind == "events":
        parsed = replace(parsed, daily_cap=daily_caps(tenant).get(parsed.event_type))
    period = period or DEFAULT_PERIOD
    if period not in PERIODS:
        raise ValidationFailed(f"Must be one of {', '.join(PERIODS)}.", code="invalid_choice", attr="period")
    if team is not None and not Team.objects.filter(pk=team).exists():
        raise ValidationFailed("No team with this id.", code="does_not_exist", attr="team")
    if parsed.name == "ssi" and team is None:
        state = _stored_ranks_state(day)
        if state is not None:
            scored_day, stored_count = state
            return Leaderboard(
                metric=parsed,
                period=period,
                day=scored_day,
                start=scored_day,
                end=scored_day,
                team_id=None,
                stored_count=stored_count,
            )
        # Not scored: ranked in SQL from whatever snapshots the day has (or no_snapshot below).
    if day is None:
        day = ScoredDay.objects.order_by("-day").values_list("day", flat=True).first()
        if day is None:
            if parsed.kind == "snapshot":
                raise NotFound("No day has been scored yet.", code="no_snapshot")
            day = local_today(tenant.timezone)
    start, end = (day, day) if parsed.kind == "snapshot" else period_bounds(period, day)
    return Leaderboard(metric=parsed, period=period, day=day, start=start, end=end, team_id=team)
