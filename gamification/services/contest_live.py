"""Stored live standings: a running contest's ranking measured once and paged from a table
(docs/contests.md#how-fresh-live-standings-are).

Measuring a contest reads every participant's rollup over the period: about ten seconds for
10,000 reps over a month. A read therefore pages the rows the last measure stored
(``ContestLiveStanding``), and the measure runs again only when they are older than
``SSI_CONTEST_STANDINGS_MAX_AGE_SECONDS``:

- rows younger than that are served as they are;
- older rows, up to ``SSI_CONTEST_STANDINGS_STALE_SECONDS``, are served too, while one
  refresh runs on a worker (a conditional UPDATE of ``live_claimed_at`` enqueues it once);
- with no rows, or rows older than that, the request measures them itself. A transaction-level
  advisory lock per contest makes readers that arrive together wait for one measure instead of
  each running their own;
- a small contest, whose last measure ranked at most ``SSI_CONTEST_STANDINGS_LIVE_UP_TO`` reps
  (500), is measured by every read and not stored: its standings are always exact, for
  milliseconds.

The contests tick refreshes every running contest it looks at for a new leader, so rows stay
fresh without readers. A finalized contest answers its frozen ``ContestStanding`` rows, and
finalizing drops the live ones; a change to a scheduled contest drops them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, overload

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.db import connection, prepared_cursor
from core.queue import enqueue
from gamification.models import Contest, ContestLiveStanding, ContestStanding
from gamification.services.contest_standings import (
    RepRow,
    Standings,
    TeamRow,
    contest_standings_live,
    standing_rows,
)
from scoring.models import Rep, Team
from tenants.models import Tenant

REFRESH_STANDINGS = "gamification.tasks.refresh_contest_standings"
# A refresh claimed longer ago than this is taken to have died (worker lost): another may run.
CLAIM_TIMEOUT = timedelta(minutes=2)
T = TypeVar("T")

# What a read of rows fetches, in the order of RepRow's and TeamRow's fields, as prepared
# statements returning tuples: a page is read on every request, and building it through the ORM
# (the query's compilation, model instances) cost more than running it.
# Each kind of row: what is selected, the join that names it, and the other kind's column.
REP_ROWS = (
    "s.rank, s.rep_id, r.external_id, r.name, r.team_id, s.value, s.reached_at",
    f"JOIN {Rep._meta.db_table} r ON r.id = s.rep_id",
    "team_id",
)
TEAM_ROWS = (
    "s.rank, s.team_id, t.name, s.value, s.members",
    f"JOIN {Team._meta.db_table} t ON t.id = s.team_id",
    "rep_id",
)


def _rep_row(values: tuple[Any, ...]) -> RepRow:
    return RepRow(*values)


def _team_row(values: tuple[Any, ...]) -> TeamRow:
    rank, team_id, name, value, members = values
    return TeamRow(rank, team_id, name, value, members or 0)


@dataclass(frozen=True)
class StandingsSource:
    """Where a read pages its rows from: the frozen rows of an ended contest or the stored
    live ones, and when those were measured (None once frozen)."""

    model: type[ContestStanding] | type[ContestLiveStanding]
    contest: Contest
    measured_at: datetime | None

    def reps(self) -> RowWindow[RepRow]:
        return RowWindow(self.model._meta.db_table, "rep", self.contest.pk, _rep_row)

    def teams(self) -> RowWindow[TeamRow]:
        return RowWindow(self.model._meta.db_table, "team", self.contest.pk, _team_row)

    def rep(self, rep_id: int) -> RepRow | None:
        return self.reps().find(rep_id)

    def team(self, team_id: int | None) -> TeamRow | None:
        return self.teams().find(team_id) if team_id is not None else None


class RowWindow(Sequence[T]):
    """Stored rows as a paginator's list: a slice is a range of ``position`` (the rows of a
    contest are numbered 0, 1, 2, ... in rank order), so page 200 reads its 50 rows through the
    partial index like page 1, instead of skipping 9,950 rows with OFFSET."""

    def __init__(self, table: str, of: str, contest_id: int, build: Callable[[tuple[Any, ...]], T]) -> None:
        self.table, self.of, self.contest_id, self.build = table, of, contest_id, build

    def __len__(self) -> int:
        """The last position + 1 (positions have no gaps): one index entry read, not a count."""
        other = (REP_ROWS if self.of == "rep" else TEAM_ROWS)[2]
        sql = f"SELECT s.position FROM {self.table} s WHERE s.contest_id = %s AND s.{other} IS NULL "  # noqa: S608 (only fixed fragments are interpolated)
        with prepared_cursor() as cursor:
            cursor.execute(sql + "ORDER BY s.position DESC LIMIT 1", [self.contest_id])
            row = cursor.fetchone()
        return row[0] + 1 if row else 0

    @overload
    def __getitem__(self, window: int) -> T: ...
    @overload
    def __getitem__(self, window: slice) -> list[T]: ...
    def __getitem__(self, window: int | slice) -> T | list[T]:
        if isinstance(window, int):
            return self[window : window + 1][0]
        stop = window.stop if window.stop is not None else 2**31 - 1
        rows = self._rows(
            " AND s.position >= %s AND s.position < %s ORDER BY s.position", [window.start or 0, stop]
        )
        return [self.build(row) for row in rows]

    def __iter__(self) -> Iterator[T]:
        return iter([self.build(row) for row in self._rows(" ORDER BY s.position", [])])

    def find(self, key: int) -> T | None:
        """The row of the rep (or team) ``key``, if it is ranked."""
        rows = self._rows(f" AND s.{self.of}_id = %s LIMIT 1", [key])
        return self.build(rows[0]) if rows else None

    def _rows(self, tail: str, params: list[Any]) -> list[tuple[Any, ...]]:
        columns, join, other = REP_ROWS if self.of == "rep" else TEAM_ROWS
        sql = f"SELECT {columns} FROM {self.table} s {join} WHERE s.contest_id = %s AND s.{other} IS NULL"  # noqa: S608 (only fixed fragments are interpolated)
        with prepared_cursor() as cursor:
            cursor.execute(sql + tail, [self.contest_id, *params])
            return list(cursor.fetchall())


@dataclass(frozen=True)
class MeasuredSource:
    """Standings measured by the read itself, not stored: a small contest's (see the module)."""

    standings: Standings
    measured_at: datetime

    def reps(self) -> list[RepRow]:
        return self.standings.reps

    def teams(self) -> list[TeamRow]:
        return self.standings.teams

    def rep(self, rep_id: int) -> RepRow | None:
        return next((r for r in self.standings.reps if r.rep_id == rep_id), None)

    def team(self, team_id: int | None) -> TeamRow | None:
        return next((t for t in self.standings.teams if t.team_id == team_id), None)


def standings_source(
    *, tenant: Tenant, contest: Contest, today: date, now: datetime | None = None
) -> StandingsSource | MeasuredSource:
    """The rows a read of ``contest``'s standings pages, measured now if need be (see the module)."""
    if contest.finalized_at is not None:
        return StandingsSource(ContestStanding, contest, None)
    now = now or timezone.now()
    small = int(settings.SSI_CONTEST_STANDINGS_LIVE_UP_TO)
    if (
        contest.live_at is not None
        and len(StandingsSource(ContestLiveStanding, contest, None).reps()) <= small
    ):
        # A small contest (its last measure ranked at most that many reps) is measured by every
        # read, in milliseconds: its standings are always exact.
        return MeasuredSource(
            contest_standings_live(tenant=tenant, contest=contest, today=today), timezone.now()
        )
    if _fresh(contest, today, now):
        return StandingsSource(ContestLiveStanding, contest, contest.live_at)
    stale = timedelta(seconds=float(settings.SSI_CONTEST_STANDINGS_STALE_SECONDS))
    if contest.live_at is not None and now - contest.live_at <= stale:
        _refresh_later(contest, now)
        return StandingsSource(ContestLiveStanding, contest, contest.live_at)
    with transaction.atomic():
        _lock(contest)
        contest.refresh_from_db(fields=["live_at", "live_day", "finalized_at"])
        if contest.finalized_at is not None:
            return StandingsSource(ContestStanding, contest, None)
        if not _fresh(contest, today, now):  # nobody measured it while this read waited
            live_refresh(tenant=tenant, contest=contest, today=today, locked=True)
    return StandingsSource(ContestLiveStanding, contest, contest.live_at)


def live_refresh(*, tenant: Tenant, contest: Contest, today: date, locked: bool = False) -> Standings | None:
    """Measure ``contest`` up to ``today`` and store the rows in place of the last ones; returns
    the standings, or None when the contest was finalized meanwhile (nothing stored)."""
    with transaction.atomic():
        if not locked:
            _lock(contest)
        began = timezone.now()
        standings = contest_standings_live(tenant=tenant, contest=contest, today=today)
        still_live = Contest.objects.filter(pk=contest.pk, finalized_at__isnull=True).update(
            live_at=began, live_day=today, live_claimed_at=None
        )
        if not still_live:
            return None
        ContestLiveStanding.objects.filter(contest=contest).delete()
        _copy_in(standing_rows(ContestLiveStanding, contest, standings))
    contest.live_at, contest.live_day, contest.live_claimed_at = began, today, None
    return standings


def live_leaders(
    *, tenant: Tenant, contest: Contest, today: date, now: datetime
) -> tuple[list[RepRow], list[TeamRow]] | None:
    """The first two rows of the reps and of the teams (enough to tell a sole leader): from the
    stored rows while they are fresh, else from a new measure (stored too). None when the
    contest was finalized meanwhile."""
    if _fresh(contest, today, now):
        source = StandingsSource(ContestLiveStanding, contest, contest.live_at)
        return source.reps()[0:2], source.teams()[0:2]
    standings = live_refresh(tenant=tenant, contest=contest, today=today)
    return None if standings is None else (standings.reps[:2], standings.teams[:2])


def live_drop(contest: Contest) -> None:
    """Forget the stored live rows (the contest ended, or what it measures changed)."""
    ContestLiveStanding.objects.filter(contest=contest).delete()
    Contest.objects.filter(pk=contest.pk).update(live_at=None, live_day=None, live_claimed_at=None)
    contest.live_at = contest.live_day = contest.live_claimed_at = None


def live_refresh_claimed(*, tenant: Tenant, contest_id: int, today: date) -> bool:
    """The worker's side of ``_refresh_later``: measure the contest unless it ended since."""
    contest = Contest.objects.filter(pk=contest_id, finalized_at__isnull=True).first()
    if contest is None:
        return False
    return live_refresh(tenant=tenant, contest=contest, today=today) is not None


def _fresh(contest: Contest, today: date, now: datetime) -> bool:
    max_age = timedelta(seconds=float(settings.SSI_CONTEST_STANDINGS_MAX_AGE_SECONDS))
    return (
        contest.live_at is not None
        and contest.live_day == today
        and max_age > timedelta(0)
        and now - contest.live_at <= max_age
    )


def _refresh_later(contest: Contest, now: datetime) -> None:
    """Enqueue one refresh: the conditional UPDATE lets one reader in ``CLAIM_TIMEOUT`` do it."""
    claimed = (
        Contest.objects.filter(pk=contest.pk, finalized_at__isnull=True)
        .filter(Q(live_claimed_at__isnull=True) | Q(live_claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(live_claimed_at=now)
    )
    if claimed:
        transaction.on_commit(lambda: enqueue(REFRESH_STANDINGS, args=(contest.pk,)))


COPY_COLUMNS = ("contest_id", "rep_id", "team_id", "position", "rank", "value", "reached_at", "members")


def _copy_in(rows: list[ContestLiveStanding]) -> None:
    """Insert the rows with one COPY: 10,000 rows in tens of milliseconds, where building and
    sending INSERTs took a second."""
    table = ContestLiveStanding._meta.db_table
    sql = f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([getattr(row, column) for column in COPY_COLUMNS])


def _lock(contest: Contest) -> None:
    """One measure of a contest at a time in this database: a transaction-level advisory lock
    keyed by the schema and the contest (released at commit or rollback)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()), %s)", [contest.pk])
