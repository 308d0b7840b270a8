"""Phase ``tenants``: creating tenants through the platform API, and a no-op ``migrate_schemas``
over every tenant schema of the database."""

from __future__ import annotations

import time

from bench.client import Client, Progress
from bench.context import PREFIX, Context
from bench.results import Row


def run(ctx: Context) -> None:
    create(ctx)
    migrate_noop(ctx)


def create(ctx: Context) -> None:
    """``POST /api/v1/platform/tenants`` one after the other, by one client: seconds per tenant."""
    n = ctx.scale.tenants
    client = Client(ctx.stack.port, host="localhost", key=ctx.platform_key)
    client.json("GET", "/api/v1/platform/tenants", expect=200)  # warm-up
    progress = Progress("tenants")
    started = time.monotonic()
    for i in range(n):
        client.json(
            "POST",
            "/api/v1/platform/tenants",
            {"slug": f"{PREFIX}t{i:03d}", "name": f"Bench tenant {i}", "timezone": "UTC"},
            expect=201,
        )
        elapsed = time.monotonic() - started
        progress.update(f"created {i + 1}/{n} ({elapsed / (i + 1):.2f} s/tenant)")
    per_tenant = (time.monotonic() - started) / n
    client.close()
    progress.done(f"created {n} tenants through POST /api/v1/platform/tenants, {per_tenant:.3f} s/tenant")
    ctx.rows.append(Row("tenants.create", per_tenant, "s/tenant", target="< 1", ok=per_tenant < 1))


def migrate_noop(ctx: Context) -> None:
    """``manage.py migrate_schemas --tenant`` with nothing to migrate: tenant schemas per minute."""
    from django_tenants.utils import get_public_schema_name

    from tenants.models import Tenant

    schemas = Tenant.objects.exclude(schema_name=get_public_schema_name()).count()
    progress = Progress("migrate_schemas")
    progress.update(f"manage.py migrate_schemas --tenant over {schemas} tenant schemas…", force=True)
    started = time.monotonic()
    ctx.manage("migrate_schemas", "--tenant", "--noinput", "-v", "0")
    seconds = time.monotonic() - started
    per_minute = schemas / seconds * 60
    progress.done(f"no-op migrate_schemas over {schemas} tenant schemas in {seconds:.1f}s")
    ctx.rows.append(
        Row("tenants.migrate_noop", per_minute, "tenants/min", target=">= 300", ok=per_minute >= 300)
    )
