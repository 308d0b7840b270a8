"""A worker SIGKILLed in the middle of a recompute: the job runs again to the end, with the very same
snapshots, no badge awarded twice and no XP counted twice.

The test holds the recompute's own (schema, day) advisory lock for the second
day of a two-day job: the worker scores the first day (its badges awarded,
their XP credited), then blocks at a known point, where it is killed.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django_tenants.utils import tenant_context

from access.actor import SYSTEM
from core.clock import local_yesterday
from gamification.models import BadgeAward, XpDaily
from gamification.services.badges import badge_create
from scoring.models import Job, Rep, ScoreSnapshot
from scoring.services.jobs import job_create
from tenants.models import Tenant
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys
from tests.support.worker import celery_worker, wait_for

pytestmark = pytest.mark.worker

SNAPSHOT_FIELDS = ("rep__external_id", "day", "ssi", "brand", "find", "engage", "relationships",
                   "config_version", "tenant_rank", "tenant_of", "tenant_top_percent")  # fmt: skip


def snapshots() -> list[tuple[Any, ...]]:
    return list(ScoreSnapshot.objects.order_by("rep__external_id", "day").values_list(*SNAPSHOT_FIELDS))


def ledger() -> dict[str, Any]:
    """What must not change when a day is scored again: awards, XP totals, the XP ledger."""
    return {
        "awards": sorted(BadgeAward.objects.values_list("rep__external_id", "badge__slug", "period")),
        "xp": dict(Rep.objects.values_list("external_id", "xp")),
        "ledger": XpDaily.objects.aggregate(total=Sum("xp"))["total"],
    }


@pytest.fixture
def two_days(committed_tenant: TenantKeys) -> tuple[Tenant, list[Any]]:
    """Events on two past days for three reps, and a badge (with an XP reward) the recompute awards."""
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    yesterday = local_yesterday(tenant.timezone)
    days = [yesterday - timedelta(days=2), yesterday - timedelta(days=1)]
    events = [
        {
            "id": f"k-{d}-{i}",
            "rep": f"rep-{i % 3}",
            "type": "post_published",
            "occurred_at": datetime.combine(day, dtime(10, i), tzinfo=ZoneInfo(tenant.timezone)).isoformat(),
        }
        for d, day in enumerate(days)
        for i in range(6)
    ]
    answer = ApiClient(committed_tenant.host, committed_tenant.integration).post(
        "/api/v1/activities", {"events": events}
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == 12, answer.content
    with tenant_context(tenant):
        badge_create(
            actor=SYSTEM,
            data={
                "slug": "scored", "name": "Scored", "description": "Has an SSI.", "repeat": "once",
                "criteria": {"metric": "ssi", "op": ">", "value": 0}, "xp_reward": 50,
            }
        )  # fmt: skip
    return tenant, days


class DayLock:
    """The recompute's advisory lock on (schema, day), held by the test on its own connection."""

    def __init__(self, schema: str, day: Any) -> None:
        s = connection.settings_dict
        self.conn = psycopg.connect(
            dbname=s["NAME"], host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], autocommit=True
        )
        self.key = f"ssi-recompute:{schema}:{day.isoformat()}"
        self.conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [self.key])

    def waiters(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
        return int(row[0]) if row else 0

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.close()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def blocked_on_day_two(lock: DayLock, job_id: Any, log: Path) -> None:
    """Day one is scored and committed (with its badges); the run waits for day two's lock."""
    wait_for(
        lambda: lock.waiters() >= 1 and Job.objects.get(pk=job_id).progress_done == 3,
        what="the worker to block on day two", log=log,
    )  # fmt: skip
    assert ScoreSnapshot.objects.count() == 3
    assert BadgeAward.objects.filter(badge__slug="scored").count() == 3


@pytest.mark.parametrize("what", ["child", "whole-worker"])
def test_a_recompute_killed_midway_runs_again_to_the_same_result(
    two_days: tuple[Tenant, list[Any]], tmp_path: Path, what: str
) -> None:
    tenant, days = two_days
    log = tmp_path / "worker.log"
    with tenant_context(tenant):
        lock = DayLock(tenant.schema_name, days[1])
        try:
            if what == "child":
                # A prefork child dies (the OOM killer, say): its parent sees the loss, and the
                # message (acks_late, reject_on_worker_lost) goes back to the queue.
                with celery_worker(tmp_path, pool="prefork", concurrency=1) as worker:
                    job = job_create(kind="recompute", days=days)  # enqueued on commit (autocommit)
                    blocked_on_day_two(lock, job.pk, log)
                    before = ledger()
                    (child,) = children_of(worker.pid)
                    os.kill(child, signal.SIGKILL)
                    time.sleep(1)
                    lock.release()
                    wait_for(
                        lambda: Job.objects.get(pk=job.pk).status in ("succeeded", "failed"),
                        what="the job to run again", log=log,
                    )  # fmt: skip
            else:
                # The whole worker (a machine, a container) is gone: the message went with it.
                # Half an hour later the beat sweep finds the job without a heartbeat.
                with celery_worker(tmp_path) as worker:
                    job = job_create(kind="recompute", days=days)
                    blocked_on_day_two(lock, job.pk, log)
                    before = ledger()
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(timeout=10)
                lock.release()
                assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING
                Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=31))
                from scoring.tasks import sweep_jobs

                with celery_worker(tmp_path / "second"):
                    sweep_jobs.delay()  # as beat sends it: in public, the worker fans out
                    wait_for(
                        lambda: Job.objects.get(pk=job.pk).status in ("succeeded", "failed"),
                        what="the swept job", log=tmp_path / "second" / "worker.log",
                    )  # fmt: skip
        finally:
            lock.release()

        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, (job.status, job.error, log.read_text()[-2000:])
        assert job.attempts == 2
        assert job.result == {"reps_scored": {days[0].isoformat(): 3, days[1].isoformat(): 3}}
        first = snapshots()
        assert sorted({row[1] for row in first}) == days and len(first) == 6
        after = ledger()
        assert after == before, "a day scored again gave a badge or XP twice"
        assert sum(after["xp"].values()) == after["ledger"] == 12 * 10 + 3 * 50

        # A second run of the same days: the very same snapshots, still nothing twice.
        again = job_create(kind="recompute", days=days)  # eager here: runs on commit, in-process
        again.refresh_from_db()
        assert again.status == Job.Status.SUCCEEDED
        assert snapshots() == first
        assert ledger() == before
