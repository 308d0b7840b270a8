"""Large synthetic tenants for benchmarks, generated set-based inside PostgreSQL.

``big_tenant_create(slug, reps, days, events_per_rep_day)`` makes a tenant
with ``reps`` reps in 20 teams and about ``reps * days * events_per_rep_day``
events spread over the last ``days`` local days, then builds the daily rollup
from them with the same GROUP BY that re-dating uses. Rows never pass
through Python, so 5 million events take a minute, not an hour.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from django_tenants.utils import tenant_context

from core.clock import local_yesterday
from core.db import connection
from provisioning.tenants import tenant_create
from scoring.engine.catalog import EVENT_TYPES
from scoring.services.relocalize import activities_relocalize
from tenants.models import Tenant
from tenants.services import tenant_delete


def big_tenant_create(
    *, slug: str, reps: int, days: int, events_per_rep_day: float, log: bool = True
) -> tuple[Tenant, str]:
    """Create (replacing) a tenant filled with synthetic activity. Returns it and its admin key."""
    old = Tenant.objects.filter(slug=slug).first()
    if old is not None:
        tenant_delete(tenant=old)
    created = tenant_create(slug=slug, name=f"Bench {slug}", timezone_name="Europe/Berlin")
    tenant = created.tenant
    started = time.monotonic()
    events = tenant_fill(tenant, reps=reps, days=days, events_per_rep_day=events_per_rep_day)
    if log:
        print(f"{slug}: {reps} reps, {events} events over {days} days in {time.monotonic() - started:.1f}s")
    return tenant, created.admin_key


def tenant_fill(tenant: Tenant, *, reps: int, days: int, events_per_rep_day: float, teams: int = 20) -> int:
    """Fill an empty tenant (time zone Europe/Berlin) with ``teams`` teams, ``reps`` reps
    (``rep-1`` …) and their events over the ``days`` local days to yesterday, and its rollup.
    How many events."""
    last = local_yesterday(tenant.timezone)
    first = last - timedelta(days=days - 1)
    with tenant_context(tenant), connection.cursor() as cursor:
        _people_insert(cursor, reps=reps, teams=teams)
        events = _activity_insert(cursor, days=days, mean=events_per_rep_day, first=first)
        activities_relocalize(tz_name=tenant.timezone)  # builds the rollup from the events
        cursor.execute("ANALYZE scoring_activitydaily")
    return events


def _people_insert(cursor: Any, *, reps: int, teams: int = 20) -> None:
    """``teams`` teams and ``reps`` reps spread over them."""
    cursor.execute(
        "INSERT INTO scoring_team (name, description, created_at, updated_at) "
        "SELECT 'Team ' || g, '', now(), now() FROM generate_series(1, %s) g",
        [teams],
    )
    cursor.execute(
        """
        INSERT INTO scoring_rep (external_id, name, email, team_id, active, created_at, updated_at)
        SELECT 'rep-' || g, 'Rep ' || g, '', (SELECT min(id) FROM scoring_team) + g %% %s, true, now(), now()
          FROM generate_series(1, %s) g
        """,
        [teams, reps],
    )


def _activity_insert(cursor: Any, *, days: int, mean: float, first: date) -> int:
    """Synthetic events for every rep over ``days`` days from ``first``; returns how many."""
    types = sorted(EVENT_TYPES)
    # Each (rep, day) gets a number of events drawn uniformly from 0..2*mean, so the
    # mean is honoured. The draw happens in a MATERIALIZED CTE, once per (rep, day)
    # row: a LATERAL generate_series whose bounds reference no outer column is a
    # constant to the planner, evaluated ONCE for the whole query (every (rep, day)
    # then got the same count; 2.7M events instead of ~5M at 10k reps x 90 days).
    # Types are uniform over the catalog; values are 1, or 0..499 for 5% of events;
    # each event has its own time between 07:00 and 19:00 local (the subquery keeps
    # the volatile ts from being inlined, so occurred_at and local_day agree).
    cursor.execute(
        """
        WITH rd AS MATERIALIZED (
            SELECT r.id AS rep_id, d.i, floor(random() * (2 * %(mean)s + 1))::int AS n
              FROM scoring_rep r
             CROSS JOIN generate_series(0, %(days)s - 1) AS d(i)
        )
        INSERT INTO scoring_activity (event_id, rep_id, type, occurred_at, local_day, value, metadata, ingested_at)
        SELECT 'b-' || e.rep_id || '-' || e.i || '-' || e.k,
               e.rep_id,
               (%(types)s::text[])[1 + floor(random() * %(ntypes)s)::int],
               e.ts, (e.ts AT TIME ZONE 'Europe/Berlin')::date,
               CASE WHEN random() < 0.05 THEN floor(random() * 500) ELSE 1 END,
               NULL, now()
          FROM (SELECT rd.rep_id, rd.i, s.k,
                       (%(first)s::date + rd.i + time '07:00' + random() * interval '12 hours')
                           AT TIME ZONE 'Europe/Berlin' AS ts
                  FROM rd CROSS JOIN LATERAL generate_series(1, rd.n) AS s(k)) e
        """,
        {"types": types, "ntypes": len(types), "days": days, "mean": mean, "first": first},
    )
    cursor.execute("SELECT count(*) FROM scoring_activity")
    events = cursor.fetchone()[0]
    cursor.execute("ANALYZE scoring_activity")
    return int(events)
