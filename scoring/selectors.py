"""Scoring reads: the aggregates scoring needs, computed by the database.

``aggregates_for_day`` returns, per rep, exactly what
``scoring.engine.aggregate_events`` computes from raw events, but from the
daily rollup with two set-based queries: the decay is applied per day (one
factor per rollup row, by the row's age), not per event.

One scan of the window's rollup rows gives, per (rep, type), the decayed and
raw sums and a bitmask of the type's active days (bit ``a`` set: an event
``a`` days before the scored day; 64 days a word); a rep's active days for a
set of types are the set bits of the union of those types' masks. The latest
event of each state type, which may be older than the window, is one index
probe per (rep, type). Reps are selected by id range when the ids asked for
are dense (a recompute's sorted chunks), which an index range scan serves,
rather than by a large ``= ANY(array)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from core.db import connection
from core.errors import ValidationFailed
from scoring.engine import Config, Latest, RepAggregates
from scoring.models import Rep

WORD_BITS = 64
WORD_MASK = (1 << WORD_BITS) - 1  # a bigint word as an unsigned Python int
# The hash aggregate of a chunk's (rep, type) groups (tens of thousands) spills to disk
# under PostgreSQL's default 4MB; this is the most one query of ours may use per node.
AGGREGATE_WORK_MEM = "64MB"
# Fewer reps than this group well within the default work_mem (a small tenant's nightly):
# no statement to raise it.
AGGREGATE_WORK_MEM_FROM = 500


@contextmanager
def aggregate_cursor(reps: int) -> Iterator[Any]:
    """A cursor whose GROUP BY over ``reps`` reps may use ``AGGREGATE_WORK_MEM``: for many reps,
    in a short transaction that holds the setting (inside a caller's transaction: that one,
    with no savepoint; an error fails it whole); for few, a plain cursor (each statement
    reads its own snapshot either way, at READ COMMITTED)."""
    if reps < AGGREGATE_WORK_MEM_FROM:
        with connection.cursor() as cursor:
            yield cursor
        return
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [AGGREGATE_WORK_MEM])
        yield cursor


def rep_filter(rep_ids: Sequence[int], column: str = "rep_id") -> tuple[str, dict[str, object]]:
    """A SQL condition selecting ``rep_ids`` (maybe more: callers keep only theirs) and its params.

    Dense ids (at least a quarter of their id range, as a recompute's sorted chunks
    are) become ``BETWEEN lo AND hi``, an index range scan; sparse ones ``= ANY(array)``.
    """
    lo, hi = min(rep_ids), max(rep_ids)
    if len(rep_ids) * 4 >= hi - lo + 1:
        return f"{column} BETWEEN %(rep_lo)s AND %(rep_hi)s", {"rep_lo": lo, "rep_hi": hi}
    return f"{column} = ANY(%(rep_ids)s)", {"rep_ids": list(rep_ids)}


def rep_rows(
    sql: str, reps: Sequence[int], column: str = "rep_id", params: dict[str, object] | None = None
) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` whose ``{reps}`` selects ``reps`` (``rep_filter`` on ``column``), theirs
    only (the first column is the rep id), in the order ``sql`` gives."""
    condition, rep_params = rep_filter(reps, column)
    wanted = set(reps)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(reps=condition), rep_params | (params or {}))
        return [row for row in cursor.fetchall() if row[0] in wanted]


# The latest rollup row of each type on or before a day, however old: one backward probe
# of the rollup's primary key (rep_id, type, day) per (rep, type).
_LATEST_SQL = """
SELECT r.id, t.type, l.last_at, l.last_id, l.last_value
  FROM scoring_rep r
 CROSS JOIN unnest(%(types)s::text[]) AS t(type)
 CROSS JOIN LATERAL (
       SELECT last_at, last_id, last_value FROM scoring_activitydaily d
        WHERE d.rep_id = r.id AND d.type = t.type AND d.day <= %(day)s
        ORDER BY d.day DESC LIMIT 1) l
 WHERE {reps}
"""


def latest_states(rep_ids: Sequence[int], types: Iterable[str], day: date) -> dict[int, dict[str, Latest]]:
    """Each rep's latest event of each of ``types`` on or before ``day``, however old, by
    type (state signals and state badge metrics read its value). A rep with none of them is
    absent, and so is a type the rep never had."""
    latest: dict[int, dict[str, Latest]] = defaultdict(dict)
    if rep_ids:
        params = {"types": sorted(types), "day": day}
        for rep_id, type_name, last_at, last_id, last_value in rep_rows(_LATEST_SQL, rep_ids, "r.id", params):
            latest[rep_id][type_name] = Latest(last_at, last_id, last_value)
    return dict(latest)


def aggregates_for_day(*, config: Config, day: date, rep_ids: Sequence[int]) -> dict[int, RepAggregates]:
    """Aggregates of ``rep_ids`` for scoring ``day`` (reps without activity are absent)."""
    if not rep_ids:
        return {}
    type_sets = sorted(config.active_day_type_sets, key=sorted)
    latest: dict[int, dict[str, Latest]] = {}
    with aggregate_cursor(len(rep_ids)) as cursor:
        cursor.execute(*_window_query(config, day, rep_ids, type_sets))
        decayed, raw, active = _window_sums(cursor.fetchall(), set(rep_ids), type_sets)
        if config.state_types:
            latest = latest_states(rep_ids, config.state_types, day)

    present = set(decayed) | set(latest)
    return {
        rep_id: RepAggregates(
            decayed=decayed.get(rep_id, {}),
            raw=raw.get(rep_id, {}),
            latest=latest.get(rep_id, {}),
            active_days=active.get(rep_id, {}),
        )
        for rep_id in present
    }


_AGE = "(%(day)s::date - day)"  # a rollup row's age in days on the scored day


def _window_query(
    config: Config, day: date, rep_ids: Sequence[int], type_sets: list[frozenset[str]]
) -> tuple[str, dict[str, object]]:
    """The one scan of the window's rollup rows, and its params: per (rep, type) the decayed
    and raw sums, then on each row the rep's active days of each type set."""
    condition, params = rep_filter(rep_ids)
    params |= {
        "day": day,
        "start": day - timedelta(days=config.window_days - 1),
        "factors": [config.decay(age) for age in range(config.window_days)],
    }
    params |= {f"types_{i}": sorted(types) for i, types in enumerate(type_sets)}
    words = range(-(-config.window_days // WORD_BITS)) if type_sets else range(0)
    sql = f"""
            SELECT rep_id, type, decayed, raw {_active_day_counts(type_sets, words)}
              FROM (SELECT rep_id, type, sum(total * (%(factors)s::float8[])[{_AGE} + 1]) AS decayed,
                           sum(total) AS raw {_active_day_masks(words)}
                      FROM scoring_activitydaily
                     WHERE {condition} AND day BETWEEN %(start)s AND %(day)s
                     GROUP BY rep_id, type) AS g
            WINDOW rep AS (PARTITION BY rep_id)
             ORDER BY rep_id
            """  # noqa: S608 (the interpolations are fixed fragments)
    return sql, params


# Active days: per (rep, type), a bitmask of the days in the window with a row (bit
# ``age - 64k`` of word k); per rep and type set, the set bits of the union of the masks
# of the set's types, by a window over the rep's (rep, type) groups.
def _active_day_masks(words: range) -> str:
    """The columns ``w0, w1, …``: a (rep, type) group's bitmask of active days, 64 days a word."""
    return "".join(
        f", bit_or(CASE WHEN {_AGE} >= {WORD_BITS * k} AND {_AGE} < {WORD_BITS * (k + 1)} "
        f"THEN 1::bigint << ({_AGE} - {WORD_BITS * k}) END) AS w{k}"
        for k in words
    )


def _active_day_counts(type_sets: list[frozenset[str]], words: range) -> str:
    """A column per type set: the rep's days with an event of one of its types (``types_i``,
    all types when the set is empty)."""
    active_columns = ""
    for i, types in enumerate(type_sets):
        selected = f" FILTER (WHERE type = ANY(%(types_{i})s))" if types else ""
        count_sql = " + ".join(
            f"coalesce(bit_count((bit_or(w{k}){selected} OVER rep)::bit({WORD_BITS})), 0)" for k in words
        )
        active_columns += f", {count_sql}"
    return active_columns


def _window_sums(
    rows: list[tuple[Any, ...]], wanted: set[int], type_sets: list[frozenset[str]]
) -> tuple[dict[int, dict[str, float]], dict[int, dict[str, float]], dict[int, dict[frozenset[str], int]]]:
    """The scan's rows by rep: decayed and raw sums by type, and active days by type set
    (sets without any left out). Rows of reps not ``wanted`` (``rep_filter`` may select
    more) are dropped."""
    decayed: dict[int, dict[str, float]] = {}
    raw: dict[int, dict[str, float]] = {}
    active: dict[int, dict[frozenset[str], int]] = {}
    # Rows come rep by rep; the active-day counts are the same on each of a rep's rows.
    current = None
    rep_decayed: dict[str, float] = {}
    rep_raw: dict[str, float] = {}
    for row in rows:
        rep_id = row[0]
        if rep_id != current:
            current = rep_id
            if rep_id not in wanted:
                rep_decayed, rep_raw = {}, {}  # collected, then dropped
                continue
            rep_decayed = decayed[rep_id] = {}
            rep_raw = raw[rep_id] = {}
            counts = {types: count for types, count in zip(type_sets, row[4:], strict=True) if count}
            if counts:
                active[rep_id] = counts
        rep_decayed[row[1]] = row[2]
        rep_raw[row[1]] = row[3]
    return decayed, raw, active


def reps_by_external_id(external_ids: Sequence[str], *, attr: str) -> list[int]:
    """Rep ids for external ids, in order; an unknown one is a 400 naming it."""
    found = dict(Rep.objects.filter(external_id__in=list(external_ids)).values_list("external_id", "id"))
    for i, external_id in enumerate(external_ids):
        if external_id not in found:
            raise ValidationFailed(
                f"No rep with external_id {external_id[:128]!r}.", code="unknown_rep", attr=f"{attr}.{i}"
            )
    return [found[e] for e in external_ids]
