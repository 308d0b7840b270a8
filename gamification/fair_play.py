"""Fair play (docs/gamification.md#daily-caps-fair-play): the tenant's daily caps in SQL, and
the flags report of reps whose daily counts stand far above everyone's.

A cap applies per (rep, type, local day): a rollup row of ``n`` events counts
``LEAST(n, cap)`` (``gamification.rules.caps.capped_count``). Ingest credits XP
under it (``gamification.services.xp``); the ``events.<type>`` metric of
badges, goals and leaderboards counts it (``gamification.services.metrics``,
``gamification.leaderboards``), and so must anything else that counts events
from the rollup for a game (contests): each through ``capped_count_sql``. SSI
and ``sum.<type>`` read ``n`` and ``total`` as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, overload

from core.clock import local_today
from core.db import connection
from tenants.models import Tenant
from tenants.tenant_settings import settings_get

PERCENTILE = 0.99
DEFAULT_DAYS = 30
MAX_DAYS = 90


def daily_caps(tenant: Tenant) -> dict[str, int]:
    """The tenant's caps: event type -> the most events of a local day that count (absent: no cap)."""
    return dict(settings_get(tenant)["daily_caps"])


def capped_count_sql(n: str, cap: str) -> str:
    """SQL of the capped count of rollup rows: ``n`` a count column (``d.n``), ``cap`` an
    integer expression or placeholder (``%s``, ``%(cap)s``) bound to the type's cap, or to
    NULL for a type without one (``LEAST`` ignores NULLs: the count as it is).

    For one event type at a time, as ``events.<type>`` is: sum it over the rows of that
    type (``sum(LEAST(d.n, %s::integer))``) to count a period's events under the caps."""
    return f"LEAST({n}, {cap}::integer)"


@dataclass(frozen=True)
class FlagDay:
    day: date
    count: int


@dataclass(frozen=True)
class Flag:
    rep_id: int
    external_id: str
    name: str
    type: str
    threshold: float
    days: tuple[FlagDay, ...]


# Each type's daily counts over the window (one per rollup row: a rep's day with events of
# the type), their 99th percentile (PostgreSQL's percentile_cont: interpolated between the
# two nearest ranks) times the factor; a (rep, type) is flagged by its days above that.
_FLAGS_SQL = """
WITH counts AS (
    SELECT rep_id, type, day, n FROM scoring_activitydaily WHERE day BETWEEN %(first)s AND %(last)s
),
thresholds AS (
    SELECT type, percentile_cont(%(percentile)s) WITHIN GROUP (ORDER BY n) * %(factor)s AS threshold
      FROM counts GROUP BY type
),
flagged AS (
    SELECT c.rep_id, c.type, t.threshold,
           array_agg(c.day ORDER BY c.day) AS days, array_agg(c.n ORDER BY c.day) AS ns
      FROM counts c JOIN thresholds t USING (type)
     WHERE c.n > t.threshold
     GROUP BY c.rep_id, c.type, t.threshold
)
"""


class FairPlayFlags:
    """The flags of a window, ``count()`` of them read a slice (``flags[0:50]``) at a time, in
    order of the rep's ``external_id`` then the type: each one SQL statement, as Django's
    paginator asks."""

    def __init__(self, *, first: date, last: date, factor: float) -> None:
        self.first = first
        self.last = last
        self.factor = factor
        self._count: int | None = None

    def _params(self) -> dict[str, Any]:
        return {"first": self.first, "last": self.last, "percentile": PERCENTILE, "factor": self.factor}

    def count(self) -> int:
        if self._count is None:
            with connection.cursor() as cursor:
                cursor.execute(_FLAGS_SQL + "SELECT count(*) FROM flagged", self._params())  # noqa: S608 (fixed)
                self._count = int(cursor.fetchone()[0])
        return self._count

    def __len__(self) -> int:
        return self.count()

    @overload
    def __getitem__(self, index: int) -> Flag: ...
    @overload
    def __getitem__(self, index: slice) -> list[Flag]: ...
    def __getitem__(self, index: int | slice) -> Flag | list[Flag]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start = index.start or 0
        stop = self.count() if index.stop is None else index.stop
        if stop <= start:
            return []
        sql = (
            _FLAGS_SQL  # noqa: S608 (fixed fragments)
            + """
            SELECT f.rep_id, r.external_id, r.name, f.type, f.threshold, f.days, f.ns
              FROM flagged f JOIN scoring_rep r ON r.id = f.rep_id
             ORDER BY r.external_id, f.type
             LIMIT %(limit)s OFFSET %(offset)s
            """
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {**self._params(), "limit": stop - start, "offset": start})
            rows = cursor.fetchall()
        return [
            Flag(
                rep_id=rep_id,
                external_id=external_id,
                name=name,
                type=type_name,
                threshold=float(threshold),
                days=tuple(FlagDay(day=d, count=n) for d, n in zip(days, ns, strict=True)),
            )
            for rep_id, external_id, name, type_name, threshold, days, ns in rows
        ]


def fair_play_flags_get(*, tenant: Tenant, days: int = DEFAULT_DAYS) -> FairPlayFlags:
    """The flags over the tenant's last ``days`` local days (today included), at its
    ``fair_play_factor``. ``days`` is checked by the caller (1 to ``MAX_DAYS``)."""
    last = local_today(tenant.timezone)
    first = last - timedelta(days=days - 1)
    return FairPlayFlags(first=first, last=last, factor=float(settings_get(tenant)["fair_play_factor"]))
