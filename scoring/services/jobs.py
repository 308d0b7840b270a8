"""Jobs: recomputes (created by the API, the nightly dispatcher or the CLI) and previews of
many reps (``scoring.services.preview``), run by a worker.

A job is claimed with a conditional UPDATE (``queued`` -> ``running``), so two
workers never run the same job at once, and a redelivered message for a
finished job does nothing. A ``running`` job is claimed again when its run is
known or presumed dead:

- the same task message comes back (``run_job`` is ``acks_late`` with
  ``reject_on_worker_lost``: the worker process running it was killed, and the
  message was put back), so the run that held the claim is gone;
- no heartbeat for ``STALE_AFTER`` (the whole worker died and the message is
  lost or waits for the broker's visibility timeout): ``jobs_sweep``, from
  beat, re-enqueues it.

A rerun recomputes every day of the job: each day replaces its snapshots, and
awards are unique per (rep, badge, period), so a day scored twice changes
nothing and no badge (nor its XP) is given twice. A preview's rerun replaces its
answer.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import DatabaseError
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.db import after_commit, connection, database_unavailable, model_columns, model_from_row
from core.queue import enqueue
from scoring import hooks
from scoring.engine import Config
from scoring.models import Job
from scoring.services.preview import PREVIEW, preview_job_compute, preview_job_params
from scoring.services.recompute import Progress, scores_compute_day
from tenants.models import Tenant

logger = logging.getLogger(__name__)

RUN_JOB = "scoring.tasks.run_job"

# A running job with no heartbeat for this long is taken to be orphaned (its worker died).
STALE_AFTER = timedelta(minutes=30)
# A queued job not taken for this long (plus the nightly jitter) lost its message: enqueued again.
QUEUED_GRACE = timedelta(minutes=2)
# A job that took its worker down this many times (out of memory, say) is failed, not retried.
MAX_ATTEMPTS = 5


def job_create(*, kind: str, days: Sequence[date], params: Mapping[str, Any] | None = None) -> Job:
    """Create a queued job and enqueue it when the transaction commits."""
    job = Job.objects.create(kind=kind, params={"days": [d.isoformat() for d in days], **(params or {})})
    job_id = str(job.id)
    # The broker down: the job stays queued and jobs_sweep enqueues it later.
    after_commit(lambda: enqueue(RUN_JOB, args=[job_id]))
    return job


def preview_job_create(*, config: Config, day: date, rep_ids: Sequence[int] | None) -> Job:
    """A preview of more reps than a request scores (``rep_ids``, or every active rep when None)."""
    return job_create(kind=PREVIEW, days=[day], params=preview_job_params(config=config, rep_ids=rep_ids))


# A queued job (the usual case) claimed and read in one statement.
_CLAIM_QUEUED = (
    "UPDATE {table} SET status = 'running', started_at = %s, heartbeat_at = %s, claimed_by = %s, "
    "attempts = attempts + 1, error = '' WHERE id = %s AND status = 'queued' RETURNING {columns}"
)


def job_claim(job_id: str, task_id: str = "") -> Job | None:
    """The job, claimed by this caller (``running``, one more attempt); None when it is not to
    run here: finished, running elsewhere, or given up after ``MAX_ATTEMPTS`` dead runs."""
    now = timezone.now()
    sql = _CLAIM_QUEUED.format(table=_job_table(), columns=model_columns(Job))
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, task_id, job_id])
        row = cursor.fetchone()
    if row is not None:
        return model_from_row(Job, row)
    return Job.objects.filter(pk=job_id).first() if _claim_dead_run(job_id, task_id, now) else None


def _job_table() -> str:
    return str(connection.ops.quote_name(Job._meta.db_table))


def _claim_dead_run(job_id: str, task_id: str, now: datetime) -> bool:
    """Claim a ``running`` job whose run is known or presumed dead, unless it gives up."""
    dead = Q(status=Job.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER) | Q(
        status=Job.Status.RUNNING, heartbeat_at__isnull=True, started_at__lt=now - STALE_AFTER
    )
    if task_id:
        dead |= Q(status=Job.Status.RUNNING, claimed_by=task_id)
    claimable = Job.objects.filter(dead, pk=job_id)
    # Only runs that died count against the limit (a database outage requeues the job instead).
    gave_up = Job.objects.filter(dead, pk=job_id, attempts__gte=MAX_ATTEMPTS).update(
        status=Job.Status.FAILED,
        error=f"Gave up after {MAX_ATTEMPTS} attempts (each ended with its worker dead).",
        finished_at=now,
    )
    if gave_up:
        logger.error("job %s: failed after %d attempts", job_id, MAX_ATTEMPTS)
        return False
    claimed = claimable.update(
        status=Job.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        claimed_by=task_id,
        attempts=F("attempts") + 1,
        error="",
    )
    return claimed == 1


def jobs_sweep() -> int:
    """In this tenant: enqueue again the jobs whose message was lost or whose run died.

    Queued jobs never taken (the broker was down when they were created) and
    running jobs without a heartbeat for ``STALE_AFTER``. Each is re-armed
    (heartbeat now) so the next sweeps leave it alone while its message waits.
    """
    from django.conf import settings

    now = timezone.now()
    # Nightly jobs are enqueued with a countdown of up to the dispatch jitter.
    nightly_cutoff = now - QUEUED_GRACE - timedelta(seconds=int(settings.SSI_DISPATCH_JITTER_SECONDS))
    last_sign = Coalesce("heartbeat_at", "started_at", "created_at")
    queued = Q(status=Job.Status.QUEUED)
    due = list(
        Job.objects.annotate(last_sign=last_sign)
        .filter(
            (queued & ~Q(kind="nightly") & Q(last_sign__lt=now - QUEUED_GRACE))
            | (queued & Q(kind="nightly", last_sign__lt=nightly_cutoff))
            | Q(status=Job.Status.RUNNING, last_sign__lt=now - STALE_AFTER)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:100]
    )
    enqueued: list[UUID] = []
    for job_id in due:
        if not enqueue(RUN_JOB, args=[str(job_id)]):
            break  # the broker is down: the next sweep tries again
        enqueued.append(job_id)
        logger.warning("job %s: re-enqueued by the sweep (lost message or dead worker)", job_id)
    if enqueued:  # re-armed in one statement, those still waiting for their message only
        Job.objects.filter(pk__in=enqueued, status=Job.Status.QUEUED).update(heartbeat_at=now)
    return len(enqueued)


def job_run(*, tenant: Tenant, job_id: str, task_id: str = "") -> Job | None:
    """Run a job if this caller claims it: a preview, or the days of a recompute."""
    job = job_claim(job_id, task_id)
    if job is None:
        logger.info("job %s: not claimed (done, or running elsewhere)", job_id)
        return None
    total: int | None = None
    try:
        runner = hooks.job_runner(job.kind)
        if job.kind == PREVIEW:
            result = preview_job_compute(job, _progress(job_id, day_index=0, days=1))
        elif runner is not None:
            result = runner(tenant=tenant, job=job, progress=_progress(job_id, day_index=0, days=1))
        else:
            result, total = _days_score(tenant, job)
    except Exception as exc:
        _job_interrupted(job_id, exc)
        raise
    return _job_succeeded(job_id, result, total=total)


def _job_succeeded(job_id: str, result: dict[str, Any], *, total: int | None = None) -> Job:
    """Mark the job succeeded with its result, its progress complete, and read it back, in one
    statement. The progress total is the one reported, else ``total`` (a recompute of one chunk
    reports none: its end is this statement)."""
    sql = (
        f"UPDATE {_job_table()} SET status = 'succeeded', finished_at = %s, result = %s::jsonb, "  # noqa: S608 (a model's table)
        "progress_total = CASE WHEN progress_total > 0 THEN progress_total ELSE coalesce(%s, 0) END, "
        "progress_done = CASE WHEN progress_total > 0 THEN progress_total "
        "ELSE coalesce(%s, progress_done) END "
        f"WHERE id = %s RETURNING {model_columns(Job)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now(), json.dumps(result), total, total, job_id])
        return model_from_row(Job, cursor.fetchone())


def _days_score(tenant: Tenant, job: Job) -> tuple[dict[str, Any], int]:
    """A recompute's work: its days, oldest first. Returns the job's result and its progress total."""
    days = sorted(date.fromisoformat(d) for d in job.params.get("days", []))
    per_day: dict[str, int] = {}
    reps = 0
    for i, day in enumerate(days):
        # The last day's end is the job's end: _job_succeeded writes that progress.
        progress = _progress(str(job.pk), day_index=i, days=len(days), end_silent=i == len(days) - 1)
        result = scores_compute_day(tenant=tenant, day=day, progress=progress, nightly=job.kind == "nightly")
        per_day[day.isoformat()] = reps = result.reps
    return {"reps_scored": per_day}, reps * len(days)


def _progress(job_id: str, *, day_index: int, days: int, end_silent: bool = False) -> Progress:
    """The job's progress through its ``day_index``-th day of ``days``, and its heartbeat
    (``end_silent``: not the day's end, which the job's end writes in the same breath)."""

    def progress(done: int, total: int) -> None:
        if end_silent and done == total:
            return
        Job.objects.filter(pk=job_id).update(
            progress_done=day_index * total + done, progress_total=total * days, heartbeat_at=timezone.now()
        )

    return progress


def _job_interrupted(job_id: str, exc: Exception) -> None:
    """A run that raised: back in the queue if the database went away, else failed with its error."""
    if database_unavailable(exc):
        # Transient: the task's retry claims it again (best effort: the database may still
        # be down, and then the claim's staleness rule takes over).
        logger.warning("job %s: database unavailable, will retry", job_id)
        with contextlib.suppress(DatabaseError):
            Job.objects.filter(pk=job_id).update(status=Job.Status.QUEUED)
        return
    # Anything else (a statement the database refuses too) fails the same way again.
    logger.exception("job %s failed", job_id)
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:2000], finished_at=timezone.now()
    )
