"""Celery tasks of gamification. Each loads what it needs, calls a service, returns.

Services publish these by name (``core.queue.enqueue``); the names are the
services' constants, so a task and its callers cannot drift apart.
"""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import tenant_context

from access.rep_tokens import rep_tokens_purge_expired
from core.db import connection
from core.queue import enqueue
from gamification.models import Challenge, Contest, ContestSeries, PendingEvaluation
from gamification.services.contest_finalize import contests_tick
from gamification.services.contest_live import REFRESH_STANDINGS, live_refresh_claimed
from gamification.services.contests import tenant_today
from gamification.services.evaluation import pending_evaluate
from gamification.services.pending import EVALUATE_PENDING
from gamification.webhooks import tasks as webhook_tasks  # noqa: F401  (registers the webhook tasks)
from tenants.selectors import tenant_is_suspended, tenants_active

CONTESTS_TICK = "gamification.tasks.tick_contests"


@shared_task(name=EVALUATE_PENDING, acks_late=True)
def evaluate_pending() -> int:
    """Ingest-time badges (and goals) for the reps ingestion queued, in this tenant. Not while
    it is suspended: the queue stays, and the sweep enqueues it once the tenant is restored."""
    if tenant_is_suspended(connection.tenant):
        return 0
    return pending_evaluate(tenant=connection.tenant)


@shared_task
def sweep_pending_evaluations() -> None:
    """Beat, every minute: evaluations an ingest could not enqueue (broker down) still run."""
    for tenant in tenants_active():
        with tenant_context(tenant):
            if PendingEvaluation.objects.exists():
                enqueue(EVALUATE_PENDING)


@shared_task
def purge_rep_tokens() -> None:
    """Beat, hourly: forget rep tokens that expired over a day ago, in every tenant."""
    for tenant in tenants_active():
        with tenant_context(tenant):
            rep_tokens_purge_expired()


@shared_task(name=CONTESTS_TICK, acks_late=True)
def tick_contests() -> dict[str, list[int]]:
    """Contests of this tenant: start those due, finalize those over (once: see
    gamification.services.contest_finalize). Not while it is suspended."""
    if tenant_is_suspended(connection.tenant):
        return {}
    result = contests_tick(tenant=connection.tenant)
    return {
        "opened": result.opened,
        "started": result.started,
        "finalized": result.finalized,
        "lead_changed": result.lead_changed,
        "challenges_expired": result.challenges_expired,
        "challenges_finalized": result.challenges_finalized,
    }


@shared_task(name=REFRESH_STANDINGS, acks_late=True)
def refresh_contest_standings(contest_id: int) -> bool:
    """Measure a running contest's standings again and store them (a read found them old)."""
    tenant = connection.tenant
    return live_refresh_claimed(tenant=tenant, contest_id=contest_id, today=tenant_today(tenant))


@shared_task
def dispatch_contests_tick() -> None:
    """Beat, every few minutes: one tick per tenant that has a contest or a challenge still open,
    or an active series. A tick lost (broker down, worker died) is made up by the next one: it
    finds the same due contests, seasons and challenges."""
    for tenant in tenants_active():
        with tenant_context(tenant):
            open_contests = Contest.objects.filter(
                status__in=[Contest.Status.SCHEDULED, Contest.Status.RUNNING]
            )
            open_challenges = Challenge.objects.filter(
                status__in=[Challenge.Status.PENDING, Challenge.Status.ACCEPTED]
            )
            if (
                open_contests.exists()
                or ContestSeries.objects.filter(active=True).exists()
                or open_challenges.exists()
            ):
                enqueue(CONTESTS_TICK)
