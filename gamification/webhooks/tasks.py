"""Webhook tasks. Each takes ids, calls a service, returns.

``dispatch_outbox`` and ``deliver`` are tenant tasks: they run in the schema
they were sent from (tenant-schemas-celery carries it in the message
headers). ``sweep_outbox`` runs from beat in ``public`` and enqueues the
tenant tasks inside each tenant's context.

A delivery is its own task, so one slow or dead receiver holds one worker
for at most one timeout (10 s) per try, never the deliveries of others.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError
from django_tenants.utils import get_public_schema_name, tenant_context

from core.db import connection
from core.queue import running_held
from gamification.services.outbox import DISPATCH_OUTBOX
from gamification.webhooks import services
from tenants.selectors import tenant_is_suspended, tenants_active

logger = logging.getLogger(__name__)


def _not_here(task: str) -> bool:
    """Whether a tenant task must not run: sent from ``public``, or its tenant is suspended (what
    it would send waits in the outbox; the sweep sends it once the tenant is restored). A task
    held by a batch (``core.queue.batched``) runs for a tenant the batch found active."""
    if connection.schema_name == get_public_schema_name():
        logger.error("%s was sent from the public schema; it runs in a tenant's. Ignored.", task)
        return True
    if not running_held() and tenant_is_suspended(connection.tenant):
        logger.info("%s not run: tenant %s is suspended", task, connection.tenant.slug)
        return True
    return False


@shared_task(name=DISPATCH_OUTBOX, acks_late=True)
def dispatch_outbox() -> int:
    """Fan this tenant's pending outbox events out into deliveries (enqueued on commit)."""
    if _not_here("dispatch_outbox"):
        return 0
    return services.outbox_dispatch()


@shared_task(name=services.DELIVER, acks_late=True, soft_time_limit=60, time_limit=90)
def deliver(delivery_id: str) -> None:
    """One try of one delivery; the next try, if any, is enqueued with its backoff as countdown."""
    if _not_here("deliver"):
        return
    services.delivery_run(delivery_id=delivery_id)


@shared_task
def sweep_outbox() -> int:
    """Beat, every minute: in every tenant, what an enqueue lost still goes out.

    Undispatched outbox events (the broker was down when they were written)
    and overdue deliveries (a lost message, a worker that died mid-try).
    """
    enqueued = 0
    for tenant in tenants_active():
        try:
            with tenant_context(tenant):
                enqueued += services.webhooks_sweep()
        except DatabaseError:  # one broken schema must not stop the others
            logger.exception("webhook sweep failed for tenant %s", tenant.slug)
    return enqueued
