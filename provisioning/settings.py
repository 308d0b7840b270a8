"""A tenant's settings changed by its admin: validated by tenancy, recorded in the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from access.actor import Actor
from access.audit import audit_record
from tenants.models import Tenant
from tenants.tenant_settings import settings_get, validate_settings


def settings_update(
    tenant: Tenant, changes: Mapping[str, Any], *, known_types: frozenset[str], actor: Actor
) -> dict[str, Any]:
    """Apply a validated partial update of the tenant's settings, recorded in its audit log;
    nothing changes if any field is invalid."""
    clean = validate_settings(changes, known_types=known_types)
    before = settings_get(tenant)
    stored = dict(tenant.settings or {})
    fields = ["settings", "updated_at"]
    for name, value in clean.items():
        if name == "timezone":
            tenant.timezone = value
            fields.append("timezone")
        else:
            stored[name] = value
    tenant.settings = stored
    with transaction.atomic():
        tenant.save(update_fields=fields)
        after = settings_get(tenant)
        audit_record(
            actor=actor,
            action="update",
            target_type="settings",
            target_id=tenant.slug,
            before=before,
            after=after,
        )
    return after
