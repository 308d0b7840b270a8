"""XP and levels: credited at ingestion, once per stored event (gamification.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction

from gamification.rules.levels import levels_gained
from gamification.services.outbox import events_emit
from scoring.engine import DEFAULT_XP, Config
from tenants.db import binary_cursor
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


def xp_credit_events(
    *,
    tenant: Tenant,
    stored: list[tuple[int, str, date, int]],
    external_ids: Mapping[int, str],
    config: Config,
) -> None:
    """The ingest hook: XP for the events stored now, level-ups, and reps to evaluate.

    Queues the reps for badge evaluation and adds to the daily XP ledger and the
    reps' totals (``xp_apply``); the level-ups it reveals become outbox events in
    the same transaction.
    """
    settings = settings_get(tenant)
    table = xp_table(config, settings["xp_per_type"])
    per_day: dict[tuple[int, date], int] = defaultdict(int)
    for rep_id, type_name, day, count in stored:
        per_day[(rep_id, day)] += table.get(type_name, 0) * count
    rows = sorted((rep, day, xp) for (rep, day), xp in per_day.items() if xp)
    reps = sorted({rep_id for rep_id, *_ in stored})
    changes = xp_apply(rows, reps)
    level_ups_emit(changes, settings["level_thresholds"], external_ids)
    from gamification.tasks import enqueue_evaluation

    transaction.on_commit(enqueue_evaluation)


def xp_apply(rows: list[tuple[int, date, int]], pending_reps: list[int]) -> list[tuple[int, int, int]]:
    """(rep id, old xp, new xp) for every rep credited.

    ``pending_reps`` are queued for evaluation: one appended row, which waits for no
    one. Then row locks in the order every writer takes them (see
    scoring.services.ingest; the evaluation worker's awards too), each statement in
    key order: the daily XP ledger, then the reps' totals. Two transactions
    crediting the same reps wait for each other, never deadlock. The caller holds
    ``rep_rows_write_lock`` (the ingest and the award transaction take it first).
    """
    with binary_cursor() as cursor:
        if pending_reps:
            cursor.execute(
                "INSERT INTO gamification_pendingevaluation (rep_ids, queued_at) "
                "VALUES (%b::bigint[], now())",
                [sorted(pending_reps)],
            )
        if not rows:
            return []
        rows = sorted(rows)
        cursor.execute(
            """
            INSERT INTO gamification_xpdaily AS d (rep_id, day, xp)
            SELECT * FROM unnest(%b::bigint[], %b::date[], %b::bigint[]) ORDER BY 1, 2
            ON CONFLICT (rep_id, day) DO UPDATE SET xp = d.xp + excluded.xp
            """,
            [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
        )
        totals: dict[int, int] = defaultdict(int)
        for rep_id, _day, xp in rows:
            totals[rep_id] += xp
        reps = sorted(totals)
        cursor.execute(
            """
            WITH locked AS (
                SELECT id FROM scoring_rep WHERE id = ANY(%b::bigint[]) ORDER BY id FOR NO KEY UPDATE
            ),
            t AS (SELECT * FROM unnest(%b::bigint[], %b::bigint[]) AS t(rep_id, xp))
            UPDATE scoring_rep r SET xp = r.xp + t.xp
              FROM locked JOIN t ON t.rep_id = locked.id
             WHERE r.id = locked.id
            RETURNING r.id, r.xp - t.xp, r.xp
            """,
            [reps, reps, [totals[r] for r in reps]],
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
