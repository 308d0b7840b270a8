"""A tenant's time zone changed: its events' local days, and the rollup, follow."""

from __future__ import annotations

import logging

from django.db import transaction

from core.db import after_commit, connection
from core.queue import enqueue
from scoring.services.people import rep_rows_write_lock

logger = logging.getLogger(__name__)

RELOCALIZE_ACTIVITIES = "scoring.tasks.relocalize_activities"


def activities_relocalize(*, tz_name: str) -> None:
    """Re-date events to local days in ``tz_name`` and rebuild the daily rollup from them.

    One transaction; ingestion waits on the table lock meanwhile, so no event
    is counted in the old rollup and missed by the new one.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        rep_rows_write_lock(cursor)
        cursor.execute("LOCK TABLE scoring_activity IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            """
            UPDATE scoring_activity SET local_day = (occurred_at AT TIME ZONE %s)::date
             WHERE local_day <> (occurred_at AT TIME ZONE %s)::date
            """,
            [tz_name, tz_name],
        )
        cursor.execute("DELETE FROM scoring_activitydaily")
        cursor.execute(
            """
            INSERT INTO scoring_activitydaily (rep_id, type, day, n, total, last_at, last_id, last_value)
            SELECT rep_id, type, local_day, count(*), sum(value), max(occurred_at),
                   (array_agg(id ORDER BY occurred_at DESC, id DESC))[1],
                   (array_agg(value ORDER BY occurred_at DESC, id DESC))[1]
              FROM scoring_activity GROUP BY rep_id, type, local_day
            """
        )


def activities_relocalize_later(tenant: object) -> None:
    """After the current transaction commits, re-date the tenant's events in the background."""
    from django_tenants.utils import tenant_context

    def later() -> None:
        with tenant_context(tenant):
            if not enqueue(RELOCALIZE_ACTIVITIES):
                # Not swept: the operator re-runs it (docs/operations.md, "Broker down").
                logger.error(
                    "relocalize of %s not enqueued (broker down): re-run it", getattr(tenant, "slug", tenant)
                )

    after_commit(later)
