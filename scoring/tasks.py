"""Celery tasks of scoring. Each takes ids and dates, loads, calls a service, returns.

Tenant tasks run in the schema they were sent from (tenant-schemas-celery
puts it in the message headers). The dispatcher runs in ``public`` and fans
out the due tenants' jobs, ``NIGHTLY_BATCH`` tenants to a task (``run_jobs``,
which enters each tenant's context in turn), with jitter.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.db import connection, database_unavailable
from core.queue import batched, enqueue
from scoring.models import IdempotencyRecord, Job
from scoring.services import benchmark
from scoring.services.benchmark import COMPUTE_BENCHMARKS
from scoring.services.jobs import RUN_JOB, job_run, jobs_sweep
from scoring.services.preview import preview_jobs_purge
from scoring.services.relocalize import RELOCALIZE_ACTIVITIES, activities_relocalize
from tenants.models import Tenant
from tenants.selectors import tenant_is_suspended, tenants_active
from tenants.tenant_settings import settings_get

logger = logging.getLogger(__name__)


@shared_task(name=RUN_JOB, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=6)
def run_job(self, job_id: str) -> None:
    """Run a recompute job (idempotent: the claim makes repeats no-ops).

    A database outage (``core.db.database_unavailable``) is retried with exponential
    backoff (30 s, 1 min, … 10 min); any other failure, a statement the database
    refuses included, marks the job failed with its error. If the worker process
    dies mid-run (SIGKILL, out of memory) the message goes back to the queue
    (``reject_on_worker_lost``) and its next delivery claims the job again.
    """
    if tenant_is_suspended(connection.tenant):
        # The job stays queued: sweep_jobs enqueues it again once the tenant is restored.
        logger.info("job %s not run: tenant %s is suspended", job_id, connection.tenant.slug)
        return
    try:
        job_run(tenant=connection.tenant, job_id=job_id, task_id=str(self.request.id or ""))
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        raise self.retry(exc=exc, countdown=min(600, 30 * 2**self.request.retries)) from exc


def due_days(*, tenant: Tenant, now: datetime, catchup_days: int) -> list[date]:
    """The days a tenant should have scored by ``now`` and has not, oldest first."""
    local_now = now.astimezone(ZoneInfo(tenant.timezone))
    if local_now.hour < int(settings_get(tenant)["recompute_hour"]):
        return []
    yesterday = local_now.date() - timedelta(days=1)
    if tenant.scored_through is not None and tenant.scored_through >= yesterday:
        return []
    first = yesterday - timedelta(days=catchup_days - 1)
    if tenant.scored_through is not None:
        first = max(first, tenant.scored_through + timedelta(days=1))
    return [first + timedelta(days=i) for i in range((yesterday - first).days + 1)]


# Due tenants' nightly jobs go out this many to a task: a small tenant's nightly is tens of
# milliseconds, and each task costs a trip through the broker and, on the folder broker, a
# wait of up to a polling interval before its worker process takes the next one. 25 small
# tenants are about a second of work.
NIGHTLY_BATCH = 25
RUN_JOBS = "scoring.tasks.run_jobs"


@shared_task(name=RUN_JOBS, acks_late=True, reject_on_worker_lost=True)
def run_jobs(jobs: list[list[str]]) -> int:
    """Several tenants' jobs (``[schema, job id]`` pairs, sent from ``public``), one after the
    other, each in its tenant's context, as ``run_job`` runs one; how many ran.

    A job that fails is marked failed (``job_run``) and the next one runs. A database outage
    stops the batch: the jobs not run stay ``queued``, and ``sweep_jobs`` enqueues them one
    by one. A message delivered again (its worker died) claims only the jobs still waiting.
    """
    ran = 0
    tenants = Tenant.objects.in_bulk([schema for schema, _ in jobs], field_name="schema_name")
    with _commits_async():
        for schema, job_id in jobs:
            ran += _batch_job_run(tenants.get(schema), job_id)
    return ran


@contextmanager
def _commits_async() -> Iterator[None]:
    """The batch's transactions commit without waiting for their WAL to reach the disk
    (``synchronous_commit`` off for this connection until the batch ends). A database crash
    can lose the last moments of them, a consistent prefix kept: a job whose end was lost is
    run again by the sweep and recomputes the same scores (docs/operations.md#the-nightly-batch)."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _batch_job_run(tenant: Tenant | None, job_id: str) -> int:
    """One job of a ``run_jobs`` batch: 1 if it ran."""
    if tenant is None:  # deleted since the dispatch
        return 0
    if tenant.suspended_at is not None:  # read with the batch; the job stays queued, as run_job leaves it
        logger.info("job %s not run: tenant %s is suspended", job_id, tenant.slug)
        return 0
    try:
        # batched: what the job's commit sends that is short and local (the outbox's fan-out)
        # runs here after the job, not through the broker: one trip per batch, not per tenant.
        with tenant_context(tenant), batched():
            job_run(tenant=tenant, job_id=job_id)
    except Exception as exc:
        if database_unavailable(exc):
            raise
        logger.exception("nightly job %s of %s failed; the batch goes on", job_id, tenant.slug)
        return 0
    return 1


@shared_task
def dispatch_nightly() -> int:
    """Enqueue the recompute of every tenant that is due, ``NIGHTLY_BATCH`` tenants to a task.
    Runs from beat every few minutes.

    Due tenants go ``NIGHTLY_BATCH`` at a time: one statement claims them, one creates their
    jobs (one in each schema), one message carries them. A dispatcher that dies in between
    leaves at most one batch claimed without jobs, dispatched again once the claim is old."""
    now = timezone.now()
    catchup = int(settings.SSI_CATCHUP_DAYS)
    jitter = int(settings.SSI_DISPATCH_JITTER_SECONDS)
    due = [
        (tenant, days)
        for tenant in tenants_active()
        if (days := due_days(tenant=tenant, now=now, catchup_days=catchup))
    ]
    enqueued = 0
    for start in range(0, len(due), NIGHTLY_BATCH):
        group = due[start : start + NIGHTLY_BATCH]
        claimed = _nightly_claim(group, now)
        group = [(tenant, days) for tenant, days in group if tenant.pk in claimed]
        if not group:
            continue
        batch = _nightly_jobs_create(group, now)
        _nightly_enqueue(batch, jitter)
        enqueued += len(batch)
        for tenant, days in group:
            logger.info("nightly: enqueued %s days=%s..%s", tenant.slug, days[0], days[-1])
    return enqueued


# The claim: once per tenant and day, unless the last claim is old (its worker died); a tenant
# another dispatcher claimed first is not returned.
_CLAIM_SQL = """
UPDATE tenants_tenant AS t SET nightly_claim_day = c.day, nightly_claim_at = %(now)s
  FROM unnest(%(ids)s::bigint[], %(days)s::date[]) AS c(id, day)
 WHERE t.id = c.id
   AND (t.nightly_claim_day IS NULL OR t.nightly_claim_day <> c.day OR t.nightly_claim_at < %(stale)s)
RETURNING t.id
"""
CLAIM_STALE_AFTER = timedelta(hours=3)


def _nightly_claim(group: list[tuple[Tenant, list[date]]], now: datetime) -> set[int]:
    """Claim these tenants' nightly (each for its last due day): the ids claimed."""
    params = {
        "ids": [tenant.pk for tenant, _ in group],
        "days": [days[-1] for _, days in group],
        "now": now,
        "stale": now - CLAIM_STALE_AFTER,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, params)
        return {tenant_id for (tenant_id,) in cursor.fetchall()}


def _nightly_jobs_create(group: list[tuple[Tenant, list[date]]], now: datetime) -> list[list[str]]:
    """A queued nightly job in each tenant's schema, all in one statement (no search_path
    change): ``[schema, job id]`` pairs. The job rows come first: they show as queued at once,
    and a redelivered message finds (and claims) these same jobs rather than new ones."""
    qn = connection.ops.quote_name
    fields = Job._meta.concrete_fields
    columns = ", ".join(qn(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    parts: list[str] = []
    params: list[Any] = []
    batch: list[list[str]] = []
    for i, (tenant, days) in enumerate(group):
        job = Job(kind=Job.Kind.NIGHTLY, params={"days": [d.isoformat() for d in days]}, created_at=now)
        table = f"{qn(tenant.schema_name)}.{qn(Job._meta.db_table)}"
        parts.append(f"j{i} AS (INSERT INTO {table} ({columns}) VALUES ({placeholders}))")  # noqa: S608 (quoted names)
        params += [field.get_db_prep_save(getattr(job, field.attname), connection) for field in fields]
        batch.append([tenant.schema_name, str(job.id)])
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT 1", params)
    return batch


def _nightly_enqueue(batch: list[list[str]], jitter: int) -> None:
    """One task for the batch (``run_job`` in its tenant's context for a batch of one). The
    broker down: the jobs stay queued, and sweep_jobs enqueues them later."""
    countdown = random.randint(0, jitter) if jitter else 0  # noqa: S311 (spreading load)
    if len(batch) == 1:
        tenant = Tenant.objects.get(schema_name=batch[0][0])
        with tenant_context(tenant):
            enqueue(RUN_JOB, args=[batch[0][1]], countdown=countdown)
        return
    enqueue(RUN_JOBS, args=[batch], countdown=countdown)


@shared_task
def purge_idempotency_records() -> None:
    """Forget Idempotency-Key answers older than 24 h, in every tenant."""
    cutoff = timezone.now() - timedelta(hours=24)
    for tenant in tenants_active():
        with tenant_context(tenant):
            IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()


@shared_task
def purge_preview_jobs() -> None:
    """Beat, hourly: forget preview jobs and their answers a day after they ended, in every tenant."""
    for tenant in tenants_active():
        with tenant_context(tenant):
            preview_jobs_purge()


@shared_task(name=RELOCALIZE_ACTIVITIES, acks_late=True)
def relocalize_activities() -> None:
    """After a time zone change: re-date every event to its new local day and rebuild the rollup."""
    activities_relocalize(tz_name=connection.tenant.timezone)


@shared_task
def sweep_jobs() -> int:
    """Beat, every few minutes: in every tenant, jobs whose message was lost or whose worker died."""
    enqueued = 0
    for tenant in tenants_active():
        try:
            with tenant_context(tenant):
                enqueued += jobs_sweep()
        except DatabaseError:  # one broken schema must not stop the others
            logger.exception("job sweep failed for tenant %s", tenant.slug)
    return enqueued


@shared_task(name=COMPUTE_BENCHMARKS, bind=True, acks_late=True, max_retries=6)
def compute_benchmarks(self, day: str | None = None) -> int:
    """Beat, daily at ``SSI_BENCHMARK_HOUR_UTC``: the industry benchmark of ``day`` (YYYY-MM-DD;
    default: yesterday's UTC date). Idempotent: a run replaces the day's benchmark whole. A
    database outage is retried with backoff. Returns the number of industries stored."""
    target = date.fromisoformat(day) if day else timezone.now().astimezone(UTC).date() - timedelta(days=1)
    try:
        results = benchmark.compute_benchmarks(target)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        raise self.retry(exc=exc, countdown=min(600, 30 * 2**self.request.retries)) from exc
    logger.info(
        "benchmarks: %s, %d industries (%d published)",
        target,
        len(results),
        sum(1 for r in results if r.published),
    )
    return len(results)
