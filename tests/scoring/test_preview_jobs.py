"""Preview jobs (``scoring.services.preview``): computed a chunk of reps at a time, their answer
stored and replaced by a rerun, purged with the job a day after it ends; on a real commit, the
job runs (eagerly here) as soon as the request that asked for it has answered 202."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

import scoring.services.preview
from scoring.engine import DEFAULT
from scoring.models import Job, PreviewResult, Rep
from scoring.services.jobs import job_run, preview_job_create
from scoring.services.preview import INLINE_REPS, PREVIEW_KEEP
from scoring.tasks import purge_preview_jobs
from tenants.models import Tenant
from tests.factories.scoring import ActivityDailyFactory, JobFactory, RepFactory
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys

DAY = date(2026, 3, 10)


@pytest.fixture
def acme_tenant_context(acme_tenant: Tenant) -> Iterator[Tenant]:
    with tenant_context(acme_tenant):
        yield acme_tenant


def test_a_preview_job_scores_its_reps_a_chunk_at_a_time_telling_its_progress(
    acme_tenant_context: Tenant, monkeypatch: Any
) -> None:
    monkeypatch.setattr(scoring.services.preview, "CHUNK_SIZE", 4)
    read = scoring.services.preview.aggregates_for_day
    chunks: list[int] = []

    def counted(**kwargs: Any) -> Any:
        chunks.append(len(kwargs["rep_ids"]))
        return read(**kwargs)

    monkeypatch.setattr(scoring.services.preview, "aggregates_for_day", counted)
    reps = Rep.objects.bulk_create(RepFactory.build_batch(10))
    ActivityDailyFactory.create(rep=reps[7], day=DAY, n=12)  # 12 posts: the only activity
    job = preview_job_create(config=DEFAULT, day=DAY, rep_ids=None)

    job_run(tenant=acme_tenant_context, job_id=str(job.pk))

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total) == (10, 10)
    assert chunks == [4, 4, 2]  # three reads, as the nightly reads its chunks
    rows = list(PreviewResult.objects.filter(job=job).order_by("position"))
    assert [r.position for r in rows] == list(range(10))
    assert (rows[0].rep, rows[0].rank) == (reps[7].external_id, 1)
    assert rows[0].brand > 0 and all(r.ssi == 0 for r in rows[1:])


def test_a_rerun_replaces_the_answer(acme_tenant_context: Tenant) -> None:
    reps = Rep.objects.bulk_create(RepFactory.build_batch(3))
    job = preview_job_create(config=DEFAULT, day=DAY, rep_ids=[r.pk for r in reps])
    job_run(tenant=acme_tenant_context, job_id=str(job.pk))
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # as a worker's death would
    Rep.objects.filter(pk=reps[0].pk).delete()
    job_run(tenant=acme_tenant_context, job_id=str(job.pk))
    assert sorted(PreviewResult.objects.filter(job=job).values_list("rep", flat=True)) == sorted(
        r.external_id for r in reps[1:]
    )


def test_preview_jobs_are_purged_with_their_answer_a_day_after_they_end(acme_tenant_context: Tenant) -> None:
    reps = Rep.objects.bulk_create(RepFactory.build_batch(2))
    ended_long_ago, ended_lately, never_ended = (
        preview_job_create(config=DEFAULT, day=DAY, rep_ids=[r.pk for r in reps]) for _ in range(3)
    )
    for job in (ended_long_ago, ended_lately):
        job_run(tenant=acme_tenant_context, job_id=str(job.pk))
    now = timezone.now()
    Job.objects.filter(pk=ended_long_ago.pk).update(finished_at=now - PREVIEW_KEEP - timedelta(minutes=1))
    Job.objects.filter(pk=never_ended.pk).update(created_at=now - PREVIEW_KEEP - timedelta(minutes=1))
    recompute = JobFactory.create(created_at=now - timedelta(days=30), finished_at=now - timedelta(days=30))

    purge_preview_jobs()

    assert set(Job.objects.values_list("pk", flat=True)) == {ended_lately.pk, recompute.pk}
    assert set(PreviewResult.objects.values_list("job_id", flat=True)) == {ended_lately.pk}


def test_on_a_real_commit_the_job_runs_after_the_202(committed_tenant: TenantKeys) -> None:
    """With ``CELERY_TASK_ALWAYS_EAGER`` the worker's run happens right after the commit."""
    client = ApiClient(committed_tenant.host, committed_tenant.admin)
    names = [f"c-{i:03}" for i in range(INLINE_REPS + 1)]
    with tenant_context(Tenant.objects.get(slug=committed_tenant.slug)):
        Rep.objects.bulk_create([RepFactory.build(external_id=name) for name in names])
    config = client.get("/api/v1/scoring-config").json()

    response = client.post("/api/v1/scoring-config/preview", {"config": config, "date": DAY.isoformat()})

    assert response.status_code == 202, response.content
    job_id = response.json()["job"]["id"]
    assert client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "succeeded"
    page = client.get(f"/api/v1/jobs/{job_id}/results", {"page": 2, "page_size": 200}).json()
    assert page["count"] == INLINE_REPS + 1 and [r["rep"] for r in page["results"]] == [names[-1]]
