"""Reads of the public schema's tenants."""

from __future__ import annotations

from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from tenants.models import Tenant


def tenants_active() -> QuerySet[Tenant]:
    """The tenants whose tasks run: not suspended, not the public schema, in id order.

    Every per-tenant fan-out of beat (the nightly dispatcher, sweeps, ticks, purges of old rows)
    loops over these: a suspended tenant's schema is left exactly as it was until it is restored
    or purged."""
    return (
        Tenant.objects.filter(suspended_at__isnull=True)
        .exclude(schema_name=get_public_schema_name())
        .order_by("id")
    )


def tenant_is_suspended(tenant: Tenant) -> bool:
    """Whether ``tenant`` is suspended now, read from its row (a task's tenant may have been
    loaded before a suspension committed)."""
    return Tenant.objects.filter(pk=tenant.pk, suspended_at__isnull=False).exists()
