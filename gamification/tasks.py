"""Celery tasks of gamification (autodiscovered through this module)."""

from __future__ import annotations

from django.db import DatabaseError
from django_tenants.utils import tenant_context

from config.celery import app, enqueue
from gamification.models import PendingEvaluation
from gamification.webhooks import tasks as webhook_tasks  # noqa: F401  (registers the webhook tasks)
from tenants.db import connection
from tenants.models import Tenant


@app.task(acks_late=True)
def evaluate_pending() -> int:
    """Ingest-time badges (and goals) for the reps ingestion queued, in this tenant."""
    from gamification.services.evaluation import pending_evaluate

    return pending_evaluate(tenant=connection.tenant)


@app.task
def sweep_pending_evaluations() -> None:
    """Beat, every minute: evaluations an ingest could not enqueue (broker down) still run."""
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            if PendingEvaluation.objects.exists():
                enqueue(evaluate_pending)


def enqueue_evaluation() -> None:
    """On commit of an ingestion. A broker outage loses nothing: the rows wait for the sweep.

    Nothing is published while a worker holds the tenant's queue: it looks again after it
    lets go (``pending_evaluate``), and under sustained ingestion it holds it nearly all
    the time, so the batches do not each cost the worker a task that finds it busy.
    """
    from gamification.services.evaluation import drain_in_progress

    try:
        busy = drain_in_progress()
    except DatabaseError:  # the answer is committed: publish, and let the worker find out
        busy = False
    if not busy:
        enqueue(evaluate_pending)


@app.task
def purge_rep_tokens() -> None:
    """Beat, hourly: forget rep tokens that expired over a day ago, in every tenant."""
    from gamification.services.rep_tokens import rep_tokens_purge_expired

    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            rep_tokens_purge_expired()
