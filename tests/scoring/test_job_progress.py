"""A recompute job's progress: reported chunk by chunk while it runs, and complete when it
succeeds, written by the statement that ends it (a job of one chunk writes none before)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django_tenants.utils import tenant_context

import scoring.services.recompute
from scoring.models import Job, Rep
from scoring.services.jobs import job_run
from tenants.models import Tenant
from tests.factories.scoring import JobFactory, RepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(acme_tenant: Tenant) -> Iterator[Tenant]:
    with tenant_context(acme_tenant):
        Rep.objects.update(active=False)
        RepFactory.create_batch(3)
        yield acme_tenant


def progress_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (done, total) of every progress write while the job runs."""
    writes: list[tuple[int, int]] = []
    real = scoring.services.jobs._progress

    def recording(job_id: str, **kwargs: object) -> scoring.services.recompute.Progress:
        report = real(job_id, **kwargs)  # type: ignore[arg-type]

        def progress(done: int, total: int) -> None:
            before = Job.objects.values_list("heartbeat_at", flat=True).get(pk=job_id)
            report(done, total)
            job = Job.objects.get(pk=job_id)
            if job.heartbeat_at != before:  # written
                writes.append((job.progress_done, job.progress_total))

        return progress

    monkeypatch.setattr(scoring.services.jobs, "_progress", recording)
    return writes


def test_a_job_of_one_chunk_writes_its_progress_once_with_its_end(
    acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = progress_writes(monkeypatch)
    job = JobFactory.create(params={"days": ["2026-03-10"]})
    done = job_run(tenant=acme, job_id=str(job.pk))
    assert done is not None and done.status == Job.Status.SUCCEEDED
    assert (done.progress_done, done.progress_total) == (3, 3)
    assert writes == []  # nothing before the end


def test_a_job_of_several_chunks_reports_each_but_the_last_and_ends_complete(
    acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scoring.services.recompute, "CHUNK_SIZE", 1)
    writes = progress_writes(monkeypatch)
    job = JobFactory.create(params={"days": ["2026-03-10"]})
    done = job_run(tenant=acme, job_id=str(job.pk))
    assert done is not None
    assert writes == [(0, 3), (1, 3), (2, 3)]
    assert (done.progress_done, done.progress_total) == (3, 3)


def test_a_job_of_several_days_reports_each_day_but_the_last(
    acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = progress_writes(monkeypatch)
    job = JobFactory.create(params={"days": ["2026-03-10", "2026-03-11"]})
    done = job_run(tenant=acme, job_id=str(job.pk))
    assert done is not None
    assert writes == [(3, 6)]  # day one's end; day two's is the job's
    assert (done.progress_done, done.progress_total) == (6, 6)
    assert done.result == {"reps_scored": {"2026-03-10": 3, "2026-03-11": 3}}
