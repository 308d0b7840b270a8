"""factory-boy factories, one module per app (``tests/factories/scoring.py``).

Factories write to whatever schema the connection is on. Tenant models live in
a tenant's schema, so wrap factory calls in :func:`in_tenant`::

    with in_tenant("acme"):
        team = TeamFactory()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django_tenants.utils import tenant_context

from tenants.models import Tenant


@contextmanager
def in_tenant(slug: str) -> Iterator[Tenant]:
    """Run the block on tenant ``slug``'s schema, then go back to the previous one."""
    tenant = Tenant.objects.get(slug=slug)
    with tenant_context(tenant):
        yield tenant
