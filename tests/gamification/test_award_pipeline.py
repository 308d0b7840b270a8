"""Awards on real infrastructure: an ingest -> worker cycle, and concurrent evaluations."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connections
from django_tenants.utils import tenant_context

from core.clock import local_today
from gamification.models import Badge, BadgeAward, OutboxEvent
from gamification.services.badges import badges_evaluate
from scoring.models import Rep
from tenants.models import Tenant
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys
from tests.support.worker import celery_worker, wait_for


def post(keys: TenantKeys, rep: str, event_id: str) -> None:
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    body = {"events": [{"id": event_id, "rep": rep, "type": "post_published", "occurred_at": at}]}
    answer = ApiClient(keys.host, keys.integration).post("/api/v1/activities", body)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.content


@pytest.mark.worker
def test_first_post_is_awarded_within_one_ingest_worker_cycle(
    committed_tenant: TenantKeys, tmp_path: Path
) -> None:
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    with celery_worker(tmp_path):
        started = time.monotonic()
        post(committed_tenant, "ada", "e-1")

        def awarded() -> list[str]:
            with tenant_context(tenant):
                return list(
                    BadgeAward.objects.filter(rep__external_id="ada").values_list("badge__slug", flat=True)
                )

        slugs = wait_for(awarded, timeout=30, what="the first-post award", log=tmp_path / "worker.log")
        elapsed = time.monotonic() - started
    assert slugs == ["first-post"]
    assert elapsed < 15, f"award took {elapsed:.1f}s"
    with tenant_context(tenant):
        assert (
            OutboxEvent.objects.filter(
                type="badge.awarded", data__rep="ada", data__badge="first-post"
            ).count()
            == 1
        )


def test_two_concurrent_evaluations_award_once_and_credit_xp_once(committed_tenant: TenantKeys) -> None:
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    with tenant_context(tenant):
        Badge.objects.filter(slug="first-post").update(xp_reward=50)
    post(committed_tenant, "bo", "e-2")  # eager evaluation may already award it; that is a third evaluation
    with tenant_context(tenant):
        rep_id = Rep.objects.get(external_id="bo").pk
        BadgeAward.objects.filter(rep_id=rep_id).delete()
        OutboxEvent.objects.filter(type="badge.awarded").delete()
        Rep.objects.filter(pk=rep_id).update(xp=10)
    today = local_today(tenant.timezone)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def evaluate() -> None:
        try:
            with tenant_context(tenant):
                barrier.wait()
                results.append(
                    len(badges_evaluate(tenant=tenant, rep_ids=[rep_id], day=today, ingest_time_only=True))
                )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=evaluate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [0, 1]
    with tenant_context(tenant):
        assert BadgeAward.objects.filter(rep_id=rep_id, badge__slug="first-post").count() == 1
        assert OutboxEvent.objects.filter(type="badge.awarded").count() == 1
        assert Rep.objects.get(pk=rep_id).xp == 60
