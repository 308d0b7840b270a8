"""A tenant made ready to use, and the platform's changes to it that its audit log records."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django_tenants.utils import tenant_context

from access.actor import SYSTEM, Actor
from access.audit import audit_record
from access.keys import api_key_create
from access.members import Invitation, link_email_send, member_invite
from gamification.services.badges import badges_seed
from scoring.services.config import scoring_config_seed
from scoring.services.relocalize import activities_relocalize_later
from tenants.models import Tenant
from tenants.schema_clone import template_ensure
from tenants.services import tenant_schema_create
from tenants.tenant_settings import (
    RATE_LIMIT,
    benchmark_validate,
    industry_validate,
    rate_limit_override,
    rate_limit_validate,
    settings_get,
)
from tenants.validation import validate_name, validate_slug, validate_timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreatedTenant:
    tenant: Tenant
    admin_key: str
    admin_invitation: Invitation | None = None  # the first admin member's, when an email was given


def console_url(*, tenant: Tenant, path: str, scheme: str | None = None, port: str | None = None) -> str:
    """An absolute console URL on the tenant's primary host. ``scheme`` and ``port`` default to
    ``SSI_PUBLIC_SCHEME`` and ``SSI_PUBLIC_PORT`` (links made without a request to copy them from)."""
    domain = tenant.domains.filter(is_primary=True).values_list("domain", flat=True).first()
    scheme = scheme or settings.SSI_PUBLIC_SCHEME
    port = settings.SSI_PUBLIC_PORT if port is None else port
    default_port = {"http": "80", "https": "443"}.get(scheme)
    host = domain if not port or port == default_port else f"{domain}:{port}"
    return f"{scheme}://{host}{path}"


def admin_invitation_send(*, tenant: Tenant, invitation: Invitation, url: str) -> None:
    """Email the first admin their invitation link."""
    link_email_send(
        member=invitation.member,
        subject=f"Your SSI Cloud console for {tenant.name}",
        intro=f"You are the first admin of {tenant.name} on SSI Cloud. Choose your password here "
        "(the link works once, for 7 days):",
        url=url,
    )


def tenant_create(
    *, slug: str, name: str, timezone_name: str = "UTC", admin_email: str | None = None
) -> CreatedTenant:
    """Create a tenant: its row, its schema (a clone of the template), its
    domain, its seed data, a first ``admin`` API key and, given ``admin_email``,
    a first admin member with an invitation, all in one transaction: a failure
    leaves nothing behind. The key and the invitation's token are returned once."""
    slug = validate_slug(slug)
    name = validate_name(name)
    timezone_name = validate_timezone(timezone_name)
    template_ensure()
    with transaction.atomic():
        tenant = tenant_schema_create(slug=slug, name=name, timezone_name=timezone_name)
        with tenant_context(tenant):
            scoring_config_seed()
            badges_seed()
            key = api_key_create(name="admin (created with the tenant)", role="admin", actor=SYSTEM)
            invitation = member_invite(email=admin_email, role="admin", actor=SYSTEM) if admin_email else None
    logger.info("tenant created slug=%s schema=%s", slug, tenant.schema_name)
    return CreatedTenant(tenant=tenant, admin_key=key.token, admin_invitation=invitation)


_KEEP: Any = object()  # "leave as is", for arguments where None means something


def tenant_snapshot(tenant: Tenant) -> dict[str, Any]:
    """What the tenant's audit log keeps of a platform change to the tenant."""
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "rate_limit_per_minute": rate_limit_override(tenant),
        "industry": settings_get(tenant)["industry"],
        "benchmark": settings_get(tenant)["benchmark"],
    }


def tenant_update(
    *,
    tenant: Tenant,
    actor: Actor,
    name: str | None = None,
    timezone_name: str | None = None,
    rate_limit_per_minute: int | None = _KEEP,
    industry: str | None = _KEEP,
    benchmark: bool = _KEEP,
) -> Tenant:
    """Change a tenant's name, time zone, rate limit (None: back to the platform default),
    industry (None: none) or benchmark opt-in (docs/scoring.md#industry-benchmark).

    Recorded in the tenant's own audit log, in the same transaction.
    """
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
        tenant.settings = _with_rate_limit(tenant.settings, rate_limit_validate(rate_limit_per_minute))
        fields.append("settings")
    benchmark_changes: dict[str, Any] = {}
    if industry is not _KEEP:
        benchmark_changes["industry"] = industry_validate(industry)
    if benchmark is not _KEEP:
        benchmark_changes["benchmark"] = benchmark_validate(benchmark)
    if benchmark_changes:
        tenant.settings = {**(tenant.settings or {}), **benchmark_changes}
        fields = [*fields, "settings"] if "settings" not in fields else fields
    with transaction.atomic():
        tenant.save(update_fields=fields)
        with tenant_context(tenant):
            audit_record(
                actor=actor,
                action="update",
                target_type="tenant",
                target_id=tenant.slug,
                before=before,
                after=tenant_snapshot(tenant),
            )
        if relocalize:  # events' local days follow the new time zone
            activities_relocalize_later(tenant)
    return tenant


def _with_rate_limit(stored: dict[str, Any] | None, limit: int | None) -> dict[str, Any]:
    """The tenant's stored settings with its rate limit set, or removed (None: the platform's)."""
    settings = dict(stored or {})
    if limit is None:
        settings.pop(RATE_LIMIT, None)
    else:
        settings[RATE_LIMIT] = limit
    return settings
