"""The rules that bring a recompute job back after its worker died (the processes are in
tests/faults/test_worker_killed.py): who may claim a running job, what the sweep re-enqueues,
when to give up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from scoring.models import Job
from scoring.services.jobs import MAX_ATTEMPTS, STALE_AFTER, job_claim, jobs_sweep
from tenants.models import Tenant
from tests.factories.scoring import JobFactory
from tests.support.worker import broker_for_this_process


@pytest.fixture
def in_acme(acme_tenant: Tenant) -> Iterator[None]:
    with tenant_context(acme_tenant):
        yield


def test_a_live_run_is_not_claimed_by_another_message(in_acme: None) -> None:
    job = JobFactory.create(running=True)
    assert not job_claim(str(job.pk), "task-2")
    assert not job_claim(str(job.pk))
    job.refresh_from_db()
    assert (job.status, job.claimed_by, job.attempts) == ("running", "task-1", 1)


def test_the_same_message_back_means_its_run_died(in_acme: None) -> None:
    job = JobFactory.create(running=True)
    assert job_claim(str(job.pk), "task-1")
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 2)


def test_a_run_without_a_heartbeat_for_long_is_claimed_by_anyone(in_acme: None) -> None:
    job = JobFactory.create(running=True, heartbeat_at=timezone.now() - STALE_AFTER - timedelta(seconds=1))
    assert job_claim(str(job.pk), "task-2")
    job.refresh_from_db()
    assert job.claimed_by == "task-2" and job.attempts == 2


def test_a_job_that_killed_its_worker_too_often_fails(in_acme: None) -> None:
    job = JobFactory.create(running=True, attempts=MAX_ATTEMPTS)
    assert not job_claim(str(job.pk), "task-1")
    job.refresh_from_db()
    assert job.status == "failed" and "Gave up" in job.error and job.finished_at is not None


def test_the_sweep_reruns_lost_and_dead_jobs_only(in_acme: None) -> None:
    """Tasks are eager here: what the sweep enqueues runs at once (a job of no days succeeds)."""
    old = timezone.now() - timedelta(hours=1)
    lost = JobFactory.create(created_at=old)
    fresh = JobFactory.create()
    dead = JobFactory.create(running=True, heartbeat_at=old, claimed_by="gone")
    alive = JobFactory.create(running=True)
    assert jobs_sweep() == 2
    statuses = {j.pk: j.status for j in Job.objects.all()}
    assert statuses[lost.pk] == statuses[dead.pk] == "succeeded"
    assert statuses[fresh.pk] == "queued"
    assert statuses[alive.pk] == "running"


def test_the_sweep_rearms_what_it_sent_so_the_next_one_leaves_it(in_acme: None, tmp_path: Path) -> None:
    """No worker takes the messages: each lost job is sent once, and re-armed (heartbeat
    now) in one statement, so the next sweep does not send it again while it waits."""
    old = timezone.now() - timedelta(hours=1)
    lost = JobFactory.create_batch(3, created_at=old)
    dead = JobFactory.create(running=True, heartbeat_at=old, claimed_by="gone")
    with broker_for_this_process(tmp_path) as broker:
        assert jobs_sweep() == 4
        # The dead run only, again: marking it alive would make its new message find a live run.
        assert jobs_sweep() == 1
        assert len(list((broker / "queue").iterdir())) == 5
    for job in lost:
        job.refresh_from_db()
        assert job.status == "queued" and job.heartbeat_at is not None and job.heartbeat_at > old
    dead.refresh_from_db()
    assert dead.heartbeat_at == old
