"""The public schema's writes: tenant rows, their domains and schemas, platform keys.

A tenant made ready to use (its config, badges and first key) is
``provisioning.tenants.tenant_create``, which calls these."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict
from core.tokens import PLATFORM, new_token
from tenants.models import Domain, PlatformKey, Tenant
from tenants.schema_clone import clone_schema, drop_schema, template_schema
from tenants.validation import schema_name_for

logger = logging.getLogger(__name__)


def tenant_domain_for(slug: str) -> str:
    return f"{slug}.{settings.SSI_BASE_DOMAIN}"


def tenant_schema_create(*, slug: str, name: str, timezone_name: str) -> Tenant:
    """A tenant's row, its domain and its schema (a clone of the template), from a slug, name
    and time zone already validated (``tenants.validation``). Call it inside the transaction
    that also seeds the schema (``provisioning.tenants.tenant_create``): a failure then
    leaves nothing behind."""
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict(f"A tenant with slug {slug!r} exists.", code="slug_taken", attr="slug")
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                slug=slug,
                name=name,
                timezone=timezone_name,
                schema_name=schema_name_for(slug),
                settings={"_seeded": ["badges"]},
            )
            Domain.objects.create(domain=tenant_domain_for(slug), tenant=tenant, is_primary=True)
    except IntegrityError as exc:  # another request created it a moment ago
        raise Conflict(f"A tenant with slug {slug!r} exists.", code="slug_taken", attr="slug") from exc
    clone_schema(source=template_schema(), target=tenant.schema_name)
    return tenant


def tenant_delete(*, tenant: Tenant) -> None:
    """Delete a tenant and drop its schema with every row in it."""
    with transaction.atomic():
        schema = tenant.schema_name
        Domain.objects.filter(tenant=tenant).delete()
        Tenant.objects.filter(pk=tenant.pk).delete()
        drop_schema(schema=schema)
    logger.info("tenant deleted slug=%s schema=%s", tenant.slug, schema)


@dataclass(frozen=True)
class CreatedPlatformKey:
    key: PlatformKey
    token: str


def platform_key_create(*, name: str = "platform") -> CreatedPlatformKey:
    token = new_token(PLATFORM)
    key = PlatformKey.objects.create(name=name, prefix=token.prefix, key_hash=token.hash)
    return CreatedPlatformKey(key=key, token=token.token)


def platform_keys_revoke(*, name: str) -> int:
    """Revoke every active platform key with this name (``make run`` rotates its own)."""
    return PlatformKey.objects.filter(name=name, revoked_at__isnull=True).update(revoked_at=timezone.now())
