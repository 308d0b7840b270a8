"""Tenant provisioning: the platform's writes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.errors import Conflict
from tenants.keys import PLATFORM, new_token
from tenants.models import Domain, PlatformKey, Tenant
from tenants.schema_clone import clone_schema, drop_schema, template_ensure, template_schema
from tenants.tenant_settings import RATE_LIMIT, rate_limit_override, rate_limit_validate
from tenants.validation import schema_name_for, validate_name, validate_slug, validate_timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreatedTenant:
    tenant: Tenant
    admin_key: str


def tenant_domain_for(slug: str) -> str:
    return f"{slug}.{settings.SSI_BASE_DOMAIN}"


def tenant_create(*, slug: str, name: str, timezone_name: str = "UTC") -> CreatedTenant:
    """Create a tenant: its row, its schema (a clone of the template), its
    domain, its seed data and a first ``admin`` API key, all in one
    transaction: a failure leaves nothing behind. The key is returned once."""
    from api.services import api_key_create  # tenant-side apps; imported lazily
    from gamification.services.badges import badges_seed
    from scoring.services.config import scoring_config_seed

    slug = validate_slug(slug)
    name = validate_name(name)
    timezone_name = validate_timezone(timezone_name)
    template_ensure()

    with transaction.atomic():
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
        with tenant_context(tenant):
            scoring_config_seed()
            badges_seed()
            key = api_key_create(name="admin (created with the tenant)", role="admin")
    logger.info("tenant created slug=%s schema=%s", slug, tenant.schema_name)
    return CreatedTenant(tenant=tenant, admin_key=key.token)


_KEEP: Any = object()  # "leave as is", for arguments where None means something


def tenant_snapshot(tenant: Tenant) -> dict[str, Any]:
    """What the tenant's audit log keeps of a platform change to the tenant."""
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "rate_limit_per_minute": rate_limit_override(tenant),
    }


def tenant_update(
    *,
    tenant: Tenant,
    name: str | None = None,
    timezone_name: str | None = None,
    rate_limit_per_minute: int | None = _KEEP,
) -> Tenant:
    """Change a tenant's name, time zone or rate limit (None: back to the platform default).

    Recorded in the tenant's own audit log, in the same transaction.
    """
    from api.services import audit_record  # tenant-side app; imported lazily

    before = tenant_snapshot(tenant)
    fields = ["updated_at"]
    if name is not None:
        tenant.name = validate_name(name)
        fields.append("name")
    relocalize = False
    if timezone_name is not None:
        new_timezone = validate_timezone(timezone_name)
        relocalize = new_timezone != tenant.timezone
        tenant.timezone = new_timezone
        fields.append("timezone")
    if rate_limit_per_minute is not _KEEP:
        limit = rate_limit_validate(rate_limit_per_minute)
        stored = dict(tenant.settings or {})
        if limit is None:
            stored.pop(RATE_LIMIT, None)
        else:
            stored[RATE_LIMIT] = limit
        tenant.settings = stored
        fields.append("settings")
    with transaction.atomic():
        tenant.save(update_fields=fields)
        with tenant_context(tenant):
            audit_record(
                action="update",
                target_type="tenant",
                target_id=tenant.slug,
                before=before,
                after=tenant_snapshot(tenant),
            )
        if relocalize:  # events' local days follow the new time zone
            from scoring.services.relocalize import activities_relocalize_later

            activities_relocalize_later(tenant)
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
