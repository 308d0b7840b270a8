"""Celery tasks of provisioning. Each calls a service and returns."""

from __future__ import annotations

from celery import shared_task

from provisioning.lifecycle import tenants_purge_due


@shared_task
def purge_suspended_tenants() -> list[str]:
    """Beat, hourly: drop the schema of every suspended tenant whose ``purge_after`` has passed.
    Two runs at once drop each schema once (``tenants_purge_due``)."""
    return tenants_purge_due().purged
