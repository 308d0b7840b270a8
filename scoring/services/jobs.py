"""Recompute jobs: created by the API, the nightly dispatcher or the CLI; run by a worker.

A job is claimed with a conditional UPDATE (``queued`` -> ``running``, or a
``running`` job whose worker died long ago), so two workers never run the same
job at once, and a redelivered message for a finished job does nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import date, timedelta

from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from scoring.models import Job
from scoring.services.recompute import Progress, scores_compute_day
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# A running job not finished after this long is taken to be orphaned (its worker died).
STALE_AFTER = timedelta(minutes=30)


def job_create(*, kind: str, days: Sequence[date]) -> Job:
    """Create a queued job and enqueue it when the transaction commits."""
    from scoring.tasks import run_job

    job = Job.objects.create(kind=kind, params={"days": [d.isoformat() for d in days]})
    job_id = str(job.id)
    transaction.on_commit(lambda: run_job.delay(job_id))
    return job


def job_claim(job_id: str) -> bool:
    now = timezone.now()
    claimed = Job.objects.filter(
        Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, started_at__lt=now - STALE_AFTER),
        pk=job_id,
    ).update(status=Job.Status.RUNNING, started_at=now, attempts=F("attempts") + 1, error="")
    return claimed == 1


def job_run(*, tenant: Tenant, job_id: str) -> Job | None:
    """Run a job if this caller claims it. Days are scored oldest first."""
    if not job_claim(job_id):
        logger.info("job %s: not claimed (done, or running elsewhere)", job_id)
        return None
    job = Job.objects.get(pk=job_id)
    days = sorted(date.fromisoformat(d) for d in job.params.get("days", []))
    per_day: dict[str, int] = {}

    def progress_of_day(index: int) -> Progress:
        def progress(done: int, total: int) -> None:
            Job.objects.filter(pk=job_id).update(
                progress_done=index * total + done, progress_total=total * len(days)
            )

        return progress

    try:
        for i, day in enumerate(days):
            result = scores_compute_day(
                tenant=tenant, day=day, progress=progress_of_day(i), nightly=job.kind == "nightly"
            )
            per_day[day.isoformat()] = result.reps
    except (OperationalError, InterfaceError):
        # The database went away: transient. Put the job back so the task's
        # retry can claim it (best effort: the database may still be down, and
        # then the claim's staleness rule takes over).
        logger.warning("job %s: database unavailable, will retry", job_id)
        with contextlib.suppress(DatabaseError):
            Job.objects.filter(pk=job_id).update(status=Job.Status.QUEUED)
        raise
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED,
            error=f"{exc.__class__.__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now(), result={"reps_scored": per_day}
    )
    return Job.objects.get(pk=job_id)
