"""When rules run: within seconds of an ingestion, and after every nightly recompute."""

from __future__ import annotations

import logging
import time
from datetime import date

from django.db import transaction

from core.clock import local_today
from core.db import connection
from gamification.models import PendingEvaluation
from gamification.services.badges import badges_evaluate
from gamification.services.goals import goals_evaluate
from gamification.services.outbox import event_emit
from gamification.services.pending import drain_key
from scoring.models import Rep
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Queue rows taken per pass (one row per ingest transaction, up to 1000 reps each): many,
# so that a rep named by many ingests since the last pass is evaluated once; the reps are
# then evaluated DRAIN_BATCH at a time.
DRAIN_ROWS = 200
DRAIN_BATCH = 5000
# Between passes while ingestion keeps queueing (a badge stays "within seconds"): at
# least COALESCE_SECONDS, and long enough that passes take at most EVALUATION_SHARE of
# the time, so that under sustained ingestion the evaluation takes at most that share of
# a worker process (and of the database backend it drives) from the ingestion it
# follows. A pass covers every rep named since the last one, so the work saved by
# waiting is not owed later. A badge then arrives within about 1 / EVALUATION_SHARE + 1
# passes (a few seconds when a pass covers thousands of reps).
COALESCE_SECONDS = 0.5
EVALUATION_SHARE = 0.25
# Held (deleted, uncommitted) until the evaluation commits: a crash puts them back.
CLAIM_SQL = """
DELETE FROM gamification_pendingevaluation WHERE id IN (
    SELECT id FROM gamification_pendingevaluation ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
RETURNING rep_ids
"""


def pending_evaluate(*, tenant: Tenant, coalesce_seconds: float = COALESCE_SECONDS) -> int:
    """Evaluate ingest-time rules for the reps queued by ingestion. Returns how many reps.

    The queue rows are taken with SKIP LOCKED and deleted in the same
    transaction as the awards: a crash puts the reps back. A rep named by
    several rows is evaluated once. One worker at a time drains a tenant's
    queue, until it is empty: two would evaluate mostly the same reps, from
    different rows, twice. While ingestion keeps queueing, passes are
    ``coalesce_seconds`` apart, so that one pass covers every batch of that
    moment rather than one pass per batch for the same reps.
    """
    key = drain_key()
    total = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key])
            if not cursor.fetchone()[0]:
                # The worker holding it drains the queue, and looks again after it lets go:
                # nothing queued before this moment is left behind.
                return total
        try:
            total += _drain(tenant=tenant, coalesce_seconds=coalesce_seconds)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
        # Rows queued by ingests whose worker gave up while we held the lock: look again.
        if not PendingEvaluation.objects.exists():
            return total


def _drain(*, tenant: Tenant, coalesce_seconds: float) -> int:
    total = 0
    while True:
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(CLAIM_SQL, [DRAIN_ROWS])
            rep_ids = sorted({rep_id for (ids,) in cursor.fetchall() for rep_id in ids})
            if not rep_ids:
                return total
            today = local_today(tenant.timezone)
            for start in range(0, len(rep_ids), DRAIN_BATCH):
                chunk = rep_ids[start : start + DRAIN_BATCH]
                badges_evaluate(tenant=tenant, rep_ids=chunk, day=today, ingest_time_only=True)
                _goals_hook(tenant=tenant, rep_ids=chunk, day=today)
        total += len(rep_ids)
        if not PendingEvaluation.objects.exists():
            return total
        # More is being queued: let it gather, one pass for it all.
        time.sleep(pause_after(time.monotonic() - started, coalesce_seconds))


def pause_after(took: float, coalesce_seconds: float = COALESCE_SECONDS) -> float:
    """Seconds to wait after a pass that took ``took`` while ingestion keeps queueing: passes
    then take at most ``EVALUATION_SHARE`` of the time, and are ``coalesce_seconds`` apart
    at least."""
    return max(coalesce_seconds, took * (1 / EVALUATION_SHARE - 1))


def day_scored_evaluate(*, tenant: Tenant, day: date, nightly: bool = False) -> None:
    """After a day's scores commit: every badge for every active rep and goals; and, once per
    tenant and day, from the nightly run, ``scores.computed`` (an on-demand recompute of a day,
    or of today so far, does not announce it again)."""
    rep_ids = list(Rep.objects.filter(active=True).values_list("id", flat=True))
    with transaction.atomic():
        badges_evaluate(tenant=tenant, rep_ids=rep_ids, day=day, ingest_time_only=False, all_active=True)
        _goals_hook(tenant=tenant, rep_ids=rep_ids, day=day, nightly=True)
        if not nightly:
            return
        with connection.cursor() as cursor:
            cursor.execute(_ANNOUNCED_SQL, {"date": day.isoformat(), "day": day})
            announced, reps, config_version = cursor.fetchone()
        if announced:
            return
        event_emit(
            type="scores.computed",
            data={
                "date": day.isoformat(),
                "reps": reps if reps is not None else len(rep_ids),
                "config_version": config_version,
            },
        )


# Whether the day's scores.computed went out already, and the scored day's reps and config
# version: one statement.
_ANNOUNCED_SQL = """
SELECT EXISTS (SELECT 1 FROM gamification_outboxevent
                WHERE type = 'scores.computed' AND data -> 'date' = to_jsonb(%(date)s::text)),
       d.reps, d.config_version
  FROM (SELECT 1) one LEFT JOIN scoring_scoredday d ON d.day = %(day)s
"""


def _goals_hook(*, tenant: Tenant, rep_ids: list[int], day: date, nightly: bool = False) -> None:
    """Goal status transitions (see gamification.services.goals)."""
    goals_evaluate(tenant=tenant, rep_ids=rep_ids, day=day, nightly=nightly)
