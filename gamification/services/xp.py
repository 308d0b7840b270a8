"""XP and levels: credited at ingestion, once per stored event under the daily caps
(docs/gamification.md#xp-and-levels)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from core.db import after_commit, binary_cursor
from gamification.rules.levels import levels_gained
from gamification.services.outbox import events_emit
from gamification.services.pending import enqueue_evaluation
from scoring.engine import DEFAULT_XP, Config
from scoring.hooks import StoredSQL
from tenants.models import Tenant
from tenants.tenant_settings import settings_get


def xp_table(config: Config, overrides: Mapping[str, int]) -> dict[str, int]:
    """XP per event type: the tenant's override, else the custom type's, else the catalog's."""
    table = dict(DEFAULT_XP)
    table.update({c.name: c.xp for c in config.custom_event_types})
    table.update(overrides)
    return table


def thresholds_of(tenant: Tenant) -> list[int]:
    return list(settings_get(tenant)["level_thresholds"])


# Credit ``xp_day`` (rep_id, day, xp), which the statement defines before these: add it
# to the daily XP ledger, then to the reps' totals, returning (rep id, old xp, new xp) as
# ``credited``. Lock order: see scoring.services.people.rep_rows_write_lock. Each step
# starts after the one before has written everything (it reads its rows first), and the
# reps' rows are locked by a separate ``FOR NO KEY UPDATE`` pass in id order (an UPDATE's
# own order is its plan's).
XP_CREDIT_CTES = """,
xp_ledger AS (
    INSERT INTO gamification_xpdaily AS d (rep_id, day, xp)
    SELECT * FROM xp_day ORDER BY 1, 2
    ON CONFLICT (rep_id, day) DO UPDATE SET xp = d.xp + excluded.xp
    RETURNING d.rep_id
),
xp_rep AS (SELECT rep_id, sum(xp)::bigint AS xp FROM xp_day GROUP BY rep_id),
xp_locked AS (
    SELECT id FROM scoring_rep
     WHERE id IN (SELECT rep_id FROM xp_rep) AND (SELECT count(*) FROM xp_ledger) >= 0
     ORDER BY id FOR NO KEY UPDATE
),
credited AS (
    UPDATE scoring_rep r SET xp = r.xp + t.xp
      FROM xp_locked JOIN xp_rep t ON t.rep_id = xp_locked.id
     WHERE r.id = xp_locked.id
    RETURNING r.id, r.xp - t.xp AS old_xp, r.xp AS new_xp
)"""
# What a credit returns, one row per rep: named as ``INGEST_SQL.columns`` say.
_CREDITED_ROWS = "SELECT id AS rep_id, old_xp, new_xp FROM credited"

# The ingest's part of the events statement (scoring.hooks.StoredSQL): the events stored
# now earn their type's XP, per rep and local day, once the rollup is written; and its
# reps are queued for badge evaluation, one appended row that waits for no one. Under a
# daily cap (docs/gamification.md#daily-caps-fair-play) they earn only for the part of
# the day's count that passes from under the cap (``newly_counted`` of
# gamification.rules.caps): the rollup row's count after the write (``n``) less the
# events stored now (``added``) is the count before, read under the row lock the upsert
# holds, so two ingests of the same day credit each event once, and a retried one (its
# events duplicates, not stored) credits nothing. A cap of 0 in the array is no cap. The
# rollup's rows and the stored ones meet by a GROUP BY of both, not a join: a join of two
# CTEs on three columns is estimated at one row, and the steps after it are then planned
# as nested loops over hundreds of rows.
_XP_DAY_OF_STORED = """,
xp_day AS (
    SELECT u.rep_id, u.day,
           sum((LEAST(u.n, NULLIF(x.cap, 0)) - LEAST(u.n - u.added, NULLIF(x.cap, 0))) * x.xp)::bigint AS xp
      FROM (SELECT rep_id, type, day, sum(n) AS n, sum(added) AS added
              FROM (SELECT rep_id, type, day, n, 0 AS added FROM rollup
                    UNION ALL
                    SELECT rep_id, type, local_day, 0, n FROM stored) AS written
             GROUP BY rep_id, type, day) AS u
      JOIN unnest(%(xp_types)b::varchar[], %(xp_points)b::bigint[], %(xp_caps)b::bigint[])
           AS x(type, xp, cap) USING (type)
     GROUP BY u.rep_id, u.day
    HAVING sum((LEAST(u.n, NULLIF(x.cap, 0)) - LEAST(u.n - u.added, NULLIF(x.cap, 0))) * x.xp) <> 0
)"""
_QUEUE_STORED = """,
queued AS (
    INSERT INTO gamification_pendingevaluation (rep_ids, queued_at)
    SELECT array_agg(DISTINCT rep_id ORDER BY rep_id), now() FROM stored HAVING count(*) > 0
)"""
INGEST_SQL = StoredSQL(
    ctes="".join((_XP_DAY_OF_STORED, XP_CREDIT_CTES, _QUEUE_STORED)),
    rows=_CREDITED_ROWS,
    columns=("rep_id", "old_xp", "new_xp"),
    params=lambda *, tenant, config: _xp_params(tenant, config),
)


def _xp_params(tenant: Tenant, config: Config) -> dict[str, list[Any]]:
    settings = settings_get(tenant)
    table = xp_table(config, settings["xp_per_type"])
    caps = settings["daily_caps"]
    types = sorted(table)
    return {
        "xp_types": types,
        "xp_points": [table[t] for t in types],
        "xp_caps": [caps.get(t, 0) for t in types],
    }


def xp_credit_events(
    *,
    tenant: Tenant,
    stored: list[tuple[int, str, date, int]],
    external_ids: Mapping[int, str],
    config: Config,
    rows: list[tuple[int, int, int]],
) -> None:
    """The ingest hook, after ``INGEST_SQL`` credited the XP and queued the reps: the
    level-ups it reveals (``rows``: named rep_id, old_xp, new_xp) become outbox events in
    the same transaction, and the worker is told to evaluate once it commits."""
    level_ups_emit(rows, settings_get(tenant)["level_thresholds"], external_ids)
    after_commit(enqueue_evaluation)


def xp_apply(rows: list[tuple[int, date, int]]) -> list[tuple[int, int, int]]:
    """Credit (rep id, local day, xp) rows (a badge award's rewards): (rep id, old xp,
    new xp) for every rep credited, in the lock order of ``XP_CREDIT_CTES``."""
    if not rows:
        return []
    with binary_cursor() as cursor:
        cursor.execute(
            "WITH xp_day AS (SELECT * FROM unnest(%(reps)b::bigint[], %(days)b::date[], "  # noqa: S608 (fixed fragments)
            "%(xp)b::bigint[]) AS t(rep_id, day, xp))" + XP_CREDIT_CTES + f" {_CREDITED_ROWS}",
            {"reps": [r[0] for r in rows], "days": [r[1] for r in rows], "xp": [r[2] for r in rows]},
        )
        return [(int(a), int(b), int(c)) for a, b, c in cursor.fetchall()]


def level_ups_emit(
    changes: list[tuple[int, int, int]], thresholds: list[int], external_ids: Mapping[int, str]
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    for rep_id, old, new in changes:
        for level in levels_gained(old, new, thresholds):
            events.append(("level.up", {"rep": external_ids.get(rep_id), "level": level, "xp": new}))
    events_emit(events)
