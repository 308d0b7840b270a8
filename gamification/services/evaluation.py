"""When rules run: within seconds of an ingestion, and after every nightly recompute."""

from __future__ import annotations

import logging
from datetime import date

from django.db import transaction

from gamification.models import OutboxEvent, PendingEvaluation
from gamification.services.badges import badges_evaluate
from gamification.services.outbox import event_emit
from scoring.models import Rep, ScoredDay
from scoring.selectors import local_today
from tenants.db import connection
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Queue rows taken per pass (one row per ingest transaction, up to 1000 reps each): many,
# so that a rep named by many ingests since the last pass is evaluated once; the reps are
# then evaluated DRAIN_BATCH at a time.
DRAIN_ROWS = 200
DRAIN_BATCH = 5000
# Held (deleted, uncommitted) until the evaluation commits: a crash puts them back.
CLAIM_SQL = """
DELETE FROM gamification_pendingevaluation WHERE id IN (
    SELECT id FROM gamification_pendingevaluation ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
RETURNING rep_ids
"""


def pending_evaluate(*, tenant: Tenant) -> int:
    """Evaluate ingest-time rules for the reps queued by ingestion. Returns how many reps.

    The queue rows are taken with SKIP LOCKED and deleted in the same
    transaction as the awards: a crash puts the reps back. A rep named by
    several rows is evaluated once. One worker at a time drains a tenant's
    queue (it loops until the queue is empty): two would evaluate mostly the
    same reps, from different rows, twice.
    """
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"pending-evaluate:{connection.schema_name}"],
            )
            if not cursor.fetchone()[0]:
                # The worker holding it drains what is queued now, and looks again after it
                # lets go: nothing queued before this moment is left behind.
                return total
            cursor.execute(CLAIM_SQL, [DRAIN_ROWS])
            rows = cursor.fetchall()
            rep_ids = sorted({rep_id for (ids,) in rows for rep_id in ids})
            if rep_ids:
                today = local_today(tenant.timezone)
                for start in range(0, len(rep_ids), DRAIN_BATCH):
                    chunk = rep_ids[start : start + DRAIN_BATCH]
                    badges_evaluate(tenant=tenant, rep_ids=chunk, day=today, ingest_time_only=True)
                    _goals_hook(tenant=tenant, rep_ids=chunk, day=today)
        total += len(rep_ids)
        # Empty: done, unless rows came while the lock was held (their worker gave up).
        if not rows and not PendingEvaluation.objects.exists():
            return total


def day_scored_evaluate(*, tenant: Tenant, day: date, nightly: bool = False) -> None:
    """After a day's scores commit: every badge for every active rep and goals; and, once per
    tenant and day, from the nightly run, ``scores.computed`` (an on-demand recompute of a day,
    or of today so far, does not announce it again)."""
    rep_ids = list(Rep.objects.filter(active=True).values_list("id", flat=True))
    with transaction.atomic():
        badges_evaluate(tenant=tenant, rep_ids=rep_ids, day=day, ingest_time_only=False)
        _goals_hook(tenant=tenant, rep_ids=rep_ids, day=day, nightly=True)
        announced = OutboxEvent.objects.filter(type="scores.computed", data__date=day.isoformat()).exists()
        if not nightly or announced:
            return
        scored = ScoredDay.objects.filter(day=day).first()
        event_emit(
            type="scores.computed",
            data={
                "date": day.isoformat(),
                "reps": scored.reps if scored else len(rep_ids),
                "config_version": scored.config_version if scored else None,
            },
        )


def _goals_hook(*, tenant: Tenant, rep_ids: list[int], day: date, nightly: bool = False) -> None:
    """Goal status transitions (see gamification.services.goals), when goals are in place."""
    try:
        from gamification.services.goals import goals_evaluate
    except ImportError:  # goals not built yet
        return
    goals_evaluate(tenant=tenant, rep_ids=rep_ids, day=day, nightly=nightly)
