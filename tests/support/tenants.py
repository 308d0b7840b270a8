"""Tenants for tests: ``TenantKeys`` (a tenant's host and a key of every role), ``World`` (what
the session fixture ``world`` built), ``make_tenant`` and ``committed_tenant_made`` (a tenant
made through the provisioning service, as the platform API makes one), and ``in_tenant`` (run
a block on a tenant's schema, as factories and services need)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django_tenants.utils import tenant_context

from access.actor import SYSTEM
from access.keys import api_key_create
from core.db import connection
from provisioning.tenants import tenant_create
from tenants.models import Tenant
from tenants.services import tenant_domain_for


@dataclass(frozen=True)
class TenantKeys:
    slug: str
    host: str
    admin: str
    integration: str
    read: str

    @property
    def schema(self) -> str:
        """The tenant's schema name (its slug, hyphens as underscores)."""
        return self.slug.replace("-", "_")


@dataclass(frozen=True)
class World:
    platform_key: str
    acme: TenantKeys
    globex: TenantKeys


def make_tenant(slug: str, name: str, tz: str) -> TenantKeys:
    """A tenant made by ``tenant_create`` (its admin key), with an integration and a read key."""
    created = tenant_create(slug=slug, name=name, timezone_name=tz)
    with tenant_context(created.tenant):
        integration = api_key_create(name="integration", role="integration", actor=SYSTEM).token
        read = api_key_create(name="read", role="read", actor=SYSTEM).token
    return TenantKeys(
        slug=slug,
        host=tenant_domain_for(slug),
        admin=created.admin_key,
        integration=integration,
        read=read,
    )


@contextmanager
def committed_tenant_made(
    slug: str, django_db_blocker: Any, *, name: str = "Committed", tz: str = "Europe/Berlin"
) -> Iterator[TenantKeys]:
    """A tenant created and committed now, dropped when the block ends."""
    from tenants.services import tenant_delete

    with django_db_blocker.unblock():
        keys = make_tenant(slug, name, tz)
        connection.set_schema_to_public()
        try:
            yield keys
        finally:
            connection.set_schema_to_public()
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is not None:
                tenant_delete(tenant=tenant)


@contextmanager
def in_tenant(slug: str) -> Iterator[Tenant]:
    """Run the block on tenant ``slug``'s schema, then go back to the previous one."""
    tenant = Tenant.objects.get(slug=slug)
    with tenant_context(tenant):
        yield tenant
