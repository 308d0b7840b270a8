"""Many badges, each at the size bounds, evaluated together: at ingestion and after a nightly
recompute, every query of the evaluation stays within PostgreSQL's limits.

Fifty maximal badges ask for 1,000 different (type, window) sums: 2,000 columns in one scan
of the rollup, past the 1,664 PostgreSQL allows; the scans take them ``SUMS_PER_SCAN`` at a
time. The tenant commits (``committed_tenant``), so what follows a commit runs as it does in
production, the evaluation eagerly (``CELERY_TASK_ALWAYS_EAGER``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from core.clock import local_today
from gamification.models import BadgeAward
from scoring.models import Job
from scoring.services.jobs import job_run
from tenants.models import Tenant
from tests.support.criteria import maximal_criteria
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys, in_tenant

BADGES = 50


def test_fifty_maximal_badges_are_awarded_at_ingestion_and_after_the_nightly(
    committed_tenant: TenantKeys,
) -> None:
    client = ApiClient(committed_tenant.host, committed_tenant.admin)
    for i in range(BADGES):
        body = {"slug": f"max-{i}", "name": f"Max {i}", "criteria": maximal_criteria(i), "repeat": "daily"}
        response = client.post("/api/v1/badges", body)
        assert response.status_code == 201, response.content
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    today = local_today(tenant.timezone)
    yesterday = today - timedelta(days=1)
    noon_yesterday = datetime.combine(yesterday, time(12), ZoneInfo(tenant.timezone))
    events = [
        {"id": "now", "rep": "ada", "type": "post_published", "occurred_at": timezone.now().isoformat()},
        {
            "id": "yesterday",
            "rep": "ada",
            "type": "post_published",
            "occurred_at": noon_yesterday.isoformat(),
        },
    ]

    response = client.post("/api/v1/activities", {"events": events})

    assert response.status_code == 200 and response.json()["accepted"] == 2, response.content
    with in_tenant(committed_tenant.slug):
        assert awarded(today.isoformat()) == BADGES  # at ingestion, as of today

        job = Job.objects.create(kind="nightly", params={"days": [yesterday.isoformat()]})
        job_run(tenant=tenant, job_id=str(job.pk))
        job.refresh_from_db()
        assert (job.status, job.error) == (Job.Status.SUCCEEDED, "")
        assert awarded(yesterday.isoformat()) == BADGES  # after the nightly, as of yesterday


def awarded(period: str) -> int:
    return BadgeAward.objects.filter(badge__slug__startswith="max-", period=period).count()
