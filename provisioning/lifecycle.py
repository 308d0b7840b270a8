"""A tenant's end, in steps a slip cannot skip: suspended, then restored or purged.

``tenant_suspend`` stops everything (the API, the console, every task) and leaves the schema
as it is; ``tenant_restore`` brings the tenant back with all its data; the schema is dropped
only by ``tenants_purge_due`` (beat, once ``purge_after`` has passed: ``SSI_TENANT_PURGE_DAYS``
after the suspension) or by ``tenant_purge`` (the platform, naming the slug twice).
docs/operations.md, "Suspending, restoring and purging a tenant", is the operator's view.

Suspending and restoring are recorded in the tenant's own audit log (action ``update``, target
``tenant``), as the platform's other changes to a tenant are; a purge drops that log with the
schema, so it is logged (``logger.info``) with who asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from access.actor import SYSTEM, Actor
from access.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from tenants.models import Tenant
from tenants.services import tenant_delete

logger = logging.getLogger(__name__)

PURGE_NOW = "now"


def lifecycle_snapshot(tenant: Tenant) -> dict[str, Any]:
    """What the tenant's audit log keeps of a suspension or a restore."""
    return {
        "slug": tenant.slug,
        "status": tenant.status,
        "suspended_at": tenant.suspended_at,
        "purge_after": tenant.purge_after,
    }


def purge_days() -> int:
    """Days a suspended tenant stays restorable (``SSI_TENANT_PURGE_DAYS``)."""
    return int(settings.SSI_TENANT_PURGE_DAYS)


def tenant_suspend(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """Suspend ``tenant``: its keys, rep tokens and console answer 403 ``tenant_suspended`` and
    no task runs for it; its schema is dropped after ``SSI_TENANT_PURGE_DAYS`` unless restored.

    Suspending a suspended tenant changes nothing (not even its dates) and records nothing."""
    now = now or timezone.now()
    before = lifecycle_snapshot(tenant)
    with transaction.atomic():
        # The conditional update is the claim: of two concurrent suspensions, one writes.
        changed = Tenant.objects.filter(pk=tenant.pk, suspended_at__isnull=True).update(
            suspended_at=now, purge_after=now + timedelta(days=purge_days()), updated_at=now
        )
        tenant.refresh_from_db()
        if changed:
            _audit(tenant=tenant, actor=actor, before=before)
    if changed:
        logger.info(
            "tenant suspended slug=%s purge_after=%s by=%s", tenant.slug, tenant.purge_after, _who(actor)
        )
    return tenant


def tenant_restore(*, tenant: Tenant, actor: Actor) -> Tenant:
    """Bring a suspended tenant back, as it was: its keys, tokens, console and tasks work again
    (what its tasks skipped meanwhile is picked up by the next sweeps). ``Conflict``
    (``tenant_not_suspended``) when it is active; ``NotFound`` when a purge took it first."""
    before = lifecycle_snapshot(tenant)
    with transaction.atomic():
        # A purge running now holds the row: this waits for it, then finds nothing.
        changed = Tenant.objects.filter(pk=tenant.pk, suspended_at__isnull=False).update(
            suspended_at=None, purge_after=None, updated_at=timezone.now()
        )
        current = Tenant.objects.filter(pk=tenant.pk).first()
        if current is None:
            raise NotFound(f"No tenant with slug {tenant.slug!r}: it was purged.", code="not_found")
        if not changed:
            raise Conflict(
                f"Tenant {tenant.slug!r} is not suspended.", code="tenant_not_suspended", attr="slug"
            )
        _audit(tenant=current, actor=actor, before=before)
    logger.info("tenant restored slug=%s by=%s", current.slug, _who(actor))
    return current


def tenant_purge(*, tenant: Tenant, actor: Actor, confirm: str | None) -> None:
    """Drop ``tenant``'s schema now, with its domains, keys and every row, active or suspended.

    Irreversible, so the slug must be repeated in ``confirm``: missing is
    ``confirmation_required``, another value ``confirmation_mismatch`` (both 400, ``attr``
    ``confirm``)."""
    if not confirm:
        raise ValidationFailed(
            f"Purging drops every row of the tenant at once: repeat its slug in confirm={tenant.slug}.",
            code="confirmation_required",
            attr="confirm",
        )
    if confirm != tenant.slug:
        raise ValidationFailed(
            "confirm must be the tenant's slug, exactly.", code="confirmation_mismatch", attr="confirm"
        )
    with transaction.atomic():
        # Locked first: a restore or a beat purge running now waits for this one, then finds nothing.
        locked = Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        if locked is None:
            raise NotFound(f"No tenant with slug {tenant.slug!r}.", code="not_found")
        tenant_delete(tenant=locked)
    logger.info("tenant purged slug=%s by=%s (on request)", tenant.slug, _who(actor))


@dataclass(frozen=True)
class PurgeResult:
    purged: list[str]  # slugs whose schema this run dropped


def tenants_purge_due(*, now: datetime | None = None) -> PurgeResult:
    """Drop the schema of every suspended tenant whose ``purge_after`` has passed (beat, hourly).

    Each tenant is claimed by locking its row with ``SKIP LOCKED``, re-checking that it is
    still due, and deleting it in the same transaction: of two runs at once, the second skips a
    row the first holds, or finds it gone; a restore that committed first leaves nothing due.
    A failure rolls its tenant back whole (row, domains and schema) and the others go on."""
    now = now or timezone.now()
    purged: list[str] = []
    due = Tenant.objects.filter(suspended_at__isnull=False, purge_after__lte=now).order_by("id")
    for pk in list(due.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                claimed = due.select_for_update(skip_locked=True).filter(pk=pk).first()
                if claimed is None:
                    continue  # another run holds it or dropped it, or it was restored
                tenant_delete(tenant=claimed)
        except Exception:  # one tenant that cannot be dropped must not keep the others
            logger.exception("tenant purge failed pk=%s", pk)
            continue
        purged.append(claimed.slug)
        logger.info(
            "tenant purged slug=%s suspended_at=%s purge_after=%s by=%s",
            claimed.slug,
            claimed.suspended_at,
            claimed.purge_after,
            _who(SYSTEM),
        )
    return PurgeResult(purged=purged)


def _who(actor: Actor) -> str:
    """Who acted, for the log: the kind and the key's public prefix (never a secret)."""
    return f"{actor.kind}:{actor.prefix}" if actor.prefix else actor.kind


def _audit(*, tenant: Tenant, actor: Actor, before: dict[str, Any]) -> None:
    with tenant_context(tenant):
        audit_record(
            actor=actor,
            action="update",
            target_type="tenant",
            target_id=tenant.slug,
            before=before,
            after=lifecycle_snapshot(tenant),
        )
