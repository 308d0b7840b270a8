"""The nightly pipeline on a real Celery worker: dispatcher, schema routing, idempotency."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from core.clock import local_yesterday
from scoring.models import Job, ScoredDay, ScoreSnapshot
from scoring.services.jobs import job_create
from scoring.tasks import dispatch_nightly, run_job
from tenants.models import Tenant
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys
from tests.support.worker import celery_worker, wait_for

pytestmark = pytest.mark.worker

SNAPSHOT_FIELDS = ("rep__external_id", "day", "ssi", "brand", "find", "engage", "relationships",
                   "config_version", "tenant_rank", "tenant_of", "tenant_top_percent")  # fmt: skip


def snapshots(schema: str) -> list[tuple[Any, ...]]:
    with schema_context(schema):
        return list(ScoreSnapshot.objects.order_by("rep__external_id", "day").values_list(*SNAPSHOT_FIELDS))


def ingest_yesterday(keys: TenantKeys) -> None:
    tenant = Tenant.objects.get(slug=keys.slug)
    day = local_yesterday(tenant.timezone)
    at = datetime.combine(day, time(10), tzinfo=ZoneInfo(tenant.timezone))
    events = [
        {
            "id": f"w-{i}",
            "rep": f"rep-{i % 3}",
            "type": "post_published",
            "occurred_at": (at + timedelta(minutes=i)).isoformat(),
        }
        for i in range(9)
    ]
    answer = ApiClient(keys.host, keys.integration).post("/api/v1/activities", {"events": events})
    assert answer.status_code == 200 and answer.json()["accepted"] == 9, answer.content


@override_settings(SSI_DISPATCH_JITTER_SECONDS=0)
def test_nightly_dispatch_scores_due_tenants_in_their_own_schema_once(
    committed_tenant: TenantKeys, tmp_path: Path
) -> None:
    due = Tenant.objects.get(slug=committed_tenant.slug)
    Tenant.objects.filter(pk=due.pk).update(settings={"recompute_hour": 0})
    ingest_yesterday(committed_tenant)
    yesterday = local_yesterday(due.timezone)
    # Every other tenant counts as already scored, so only ours is due.
    others = Tenant.objects.exclude(pk=due.pk)
    saved = {t.pk: t.scored_through for t in others}
    others.update(scored_through=timezone.now().date() + timedelta(days=2))
    schema = due.schema_name
    try:
        with celery_worker(tmp_path) as worker:
            assert dispatch_nightly() == 1
            wait_for(
                # The day is scored before the job ends (its badge and goal hooks run after).
                lambda: worker.poll() is not None or (_scored(schema, yesterday) and _jobs_done(schema) == 1),
                what="the nightly recompute", log=tmp_path / "worker.log",
            )  # fmt: skip
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
            first = snapshots(schema)
            # Never scored before: the last SSI_CATCHUP_DAYS (7) days are caught up, each rep every day.
            days = [yesterday - timedelta(days=i) for i in range(6, -1, -1)]
            assert sorted({row[1] for row in first}) == days
            assert sorted({row[0] for row in first}) == ["rep-0", "rep-1", "rep-2"]
            assert len(first) == 21
            assert all((row[2] > 0) == (row[1] == yesterday) for row in first)
            with schema_context(schema):
                assert Job.objects.get().status == Job.Status.SUCCEEDED
            assert Tenant.objects.get(pk=due.pk).scored_through == yesterday
            for other in ("acme", "globex"):
                assert snapshots(other) == [], f"work leaked into {other}"

            # Due no more: the dispatcher enqueues nothing.
            assert dispatch_nightly() == 0
            # A redelivered message for the finished job does nothing; a second
            # job over the same days recomputes the very same snapshots.
            with schema_context(schema):
                nightly = Job.objects.get()
                run_job.delay(str(nightly.id))
                job_create(kind="recompute", days=[yesterday])  # enqueued on commit (autocommit here)
            wait_for(lambda: _jobs_done(schema) == 2, what="the second run", log=tmp_path / "worker.log")
            with schema_context(schema):
                assert Job.objects.get(pk=nightly.pk).attempts == 1
            assert snapshots(schema) == first
    finally:
        for pk, value in saved.items():
            Tenant.objects.filter(pk=pk).update(scored_through=value)


def test_on_demand_recompute_runs_on_the_worker(committed_tenant: TenantKeys, tmp_path: Path) -> None:
    ingest_yesterday(committed_tenant)
    schema = Tenant.objects.get(slug=committed_tenant.slug).schema_name
    admin = ApiClient(committed_tenant.host, committed_tenant.admin)
    with celery_worker(tmp_path):
        answer = admin.post("/api/v1/scores/recompute", {})
        assert answer.status_code == 202, answer.content
        job_id = answer.json()["job"]["id"]
        job = wait_for(
            lambda: (body := admin.get(f"/api/v1/jobs/{job_id}").json())["status"] in ("succeeded", "failed")
            and body,
            what="the job", log=tmp_path / "worker.log",
        )  # fmt: skip
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"done": 3, "total": 3}
    assert job["duration_seconds"] is not None
    assert len(snapshots(schema)) == 3


def _scored(schema: str, day: date) -> bool:
    with schema_context(schema):
        return ScoredDay.objects.filter(day=day).exists()


def _jobs_done(schema: str) -> int:
    with schema_context(schema):
        return Job.objects.filter(status=Job.Status.SUCCEEDED).count()
