"""The evaluation queue's signals: which worker drains a tenant's queue, and the call that
asks for a drain once an ingest commits. The queue rows themselves are written by the
ingest's events statement (``gamification.services.xp``); ``evaluation`` drains them."""

from __future__ import annotations

from django.db import DatabaseError

from core.db import connection
from core.queue import enqueue

EVALUATE_PENDING = "gamification.tasks.evaluate_pending"


def drain_key(schema_name: str | None = None) -> str:
    """The advisory lock a worker holds while it drains a tenant's queue (this schema's
    unless named)."""
    return f"pending-evaluate:{schema_name or connection.schema_name}"


def drain_in_progress() -> bool:
    """Whether a worker holds this tenant's queue now (in a pass, or waiting between passes).

    It looks at the queue again after it lets go, so rows committed before this call are
    its to take: an ingest that sees it need not publish a task of its own. The check
    takes the lock shared and lets go at once; a worker that tries for it in that instant
    leaves the queue to the caller, which then publishes.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN pg_try_advisory_lock_shared(hashtextextended(%(key)s, 0)) "
            "THEN NOT pg_advisory_unlock_shared(hashtextextended(%(key)s, 0)) ELSE true END",
            {"key": drain_key()},
        )
        return bool(cursor.fetchone()[0])


def enqueue_evaluation() -> None:
    """On commit of an ingestion. A broker outage loses nothing: the rows wait for the sweep.

    Nothing is published while a worker holds the tenant's queue: it looks again after it
    lets go (``pending_evaluate``), and under sustained ingestion it holds it nearly all
    the time, so the batches do not each cost the worker a task that finds it busy.
    """
    try:
        busy = drain_in_progress()
    except DatabaseError:  # the answer is committed: publish, and let the worker find out
        busy = False
    if not busy:
        enqueue(EVALUATE_PENDING)
