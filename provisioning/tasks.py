"""Celery tasks of provisioning. Each calls a service and returns."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import tenant_context

from provisioning.exports import exports_purge
from provisioning.lifecycle import tenants_purge_due
from tenants.selectors import tenants_active


@shared_task
def purge_suspended_tenants() -> list[str]:
    """Beat, hourly: drop the schema of every suspended tenant whose ``purge_after`` has passed.
    Two runs at once drop each schema once (``tenants_purge_due``)."""
    return tenants_purge_due().purged


@shared_task
def purge_exports() -> int:
    """Beat, hourly: delete the export archives whose download link has expired, in every tenant."""
    removed = 0
    for tenant in tenants_active():
        with tenant_context(tenant):
            removed += exports_purge(tenant=tenant)
    return removed
