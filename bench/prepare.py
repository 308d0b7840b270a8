"""The ``bench-*`` tenants a run measures: deleted before and after, built before the phases.

``bench-big`` (reps x days of synthetic activity, ``bench.data``), ``bench-ingest``
(reps, no events) and ``bench-badge`` (empty), and a platform key named ``bench``.
"""

from __future__ import annotations

import time

from bench.client import Progress
from bench.context import BADGE, BIG, INGEST, PLATFORM_KEY_NAME, PREFIX, Context
from bench.database import vacuum


def tenants_cleanup() -> int:
    """Delete every ``bench-*`` tenant and revoke the bench's platform keys; how many tenants."""
    from tenants.models import Tenant
    from tenants.services import platform_keys_revoke, tenant_delete

    old = list(Tenant.objects.filter(slug__startswith=PREFIX))
    progress = Progress("deleting bench-* tenants")
    for done, tenant in enumerate(old, 1):
        tenant_delete(tenant=tenant)
        if len(old) > 10:  # 2,000 of them take minutes
            progress.update(f"{done}/{len(old)}")
    platform_keys_revoke(name=PLATFORM_KEY_NAME)
    return len(old)


def prepare_data(ctx: Context, *, big: bool = True) -> None:
    """The tenants the phases need (``bench-big`` only when ``big``) and the platform key."""
    from provisioning.tenants import tenant_create
    from tenants.services import platform_key_create

    if big:
        big_create(ctx)
    ingest_create(ctx)
    ctx.keys[BADGE] = tenant_create(slug=BADGE, name="Bench badge", timezone_name="UTC").admin_key
    ctx.platform_key = platform_key_create(name=PLATFORM_KEY_NAME).token
    shield_from_nightly()


def ingest_create(ctx: Context) -> None:
    """``bench-ingest`` with its reps (``rep-1`` …) and no events: the ingest phase sends them."""
    from django_tenants.utils import tenant_context

    from core.db import connection
    from provisioning.tenants import tenant_create

    ingest = tenant_create(slug=INGEST, name="Bench ingest", timezone_name="Europe/Berlin")
    ctx.keys[INGEST] = ingest.admin_key
    with tenant_context(ingest.tenant), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scoring_rep (external_id, name, email, active, created_at, updated_at) "
            "SELECT 'rep-' || g, 'Rep ' || g, '', true, now(), now() FROM generate_series(1, %s) g",
            [ctx.scale.ingest_reps],
        )


def big_create(ctx: Context) -> None:
    from django_tenants.utils import tenant_context

    from bench.data import big_tenant_create
    from core.db import connection

    s = ctx.scale
    progress = Progress("data")
    progress.update(f"{BIG}: {s.reps:,} reps x {s.days} days…", force=True)
    started = time.monotonic()
    big, key = big_tenant_create(
        slug=BIG, reps=s.reps, days=s.days, events_per_rep_day=s.events_per_rep_day, log=False
    )
    ctx.keys[BIG] = key
    with tenant_context(big), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM scoring_activity")
        events = cursor.fetchone()[0]
    progress.done(
        f"{BIG}: {s.reps:,} reps, {events:,} events over {s.days} days in {time.monotonic() - started:.1f}s"
    )
    # A history bulk-loaded a moment ago, not months ago: vacuumed now, or autovacuum may
    # work through its millions of rows during the timed phases that follow, and every
    # index-only scan of the rollup (the card's streak, the nightly) visits the heap,
    # which an old history never makes it do.
    vacuum(BIG, "its history")


def shield_from_nightly() -> None:
    """A ``make run`` beat on the same database would enqueue nightly recomputes of our
    tenants on its own worker: mark them scored through yesterday (the nightly job this
    bench runs itself does not depend on it)."""
    from core.clock import local_yesterday
    from tenants.models import Tenant

    for tenant in Tenant.objects.filter(slug__startswith=PREFIX):
        Tenant.objects.filter(pk=tenant.pk).update(scored_through=local_yesterday(tenant.timezone))
