"""The broker is down: the API still accepts and stores, the work waits in the database, and runs
when the broker is back (on a real worker, sent there by the sweeps as beat sends them)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from config.celery import app
from gamification.models import BadgeAward, OutboxEvent, PendingEvaluation, WebhookDelivery
from scoring.models import Job, Rep
from tenants.models import Tenant
from tests.support.faults import TcpProxy
from tests.support.http import ApiClient
from tests.support.server import free_port
from tests.support.tenants import TenantKeys
from tests.support.webhooks import Receiver, running_receiver
from tests.support.worker import _reset_pools, celery_worker, wait_for

pytestmark = pytest.mark.worker

# Publishing to a dead broker must not hold a request for long (the work is in the outbox).
REQUEST_BOUND_SECONDS = 8


@pytest.fixture(params=["refused", "hanging"])
def broker_down(request: pytest.FixtureRequest) -> Iterator[str]:
    """This process publishes to a Redis broker that refuses connections, or that accepts them and
    never answers (a hung or unreachable host)."""
    proxy = None
    if request.param == "refused":
        url = f"redis://127.0.0.1:{free_port()}/0"
    else:
        proxy = TcpProxy(("tcp", "127.0.0.1", free_port()))
        proxy.blackhole()
        url = f"redis://127.0.0.1:{proxy.port}/0"
    saved = {k: app.conf[k] for k in ("broker_url", "broker_transport_options", "task_always_eager")}
    # The transport options production gives a Redis broker (its socket timeouts).
    options = dict(settings.REDIS_BROKER_TRANSPORT_OPTIONS)
    app.conf.update(broker_url=url, broker_transport_options=options, task_always_eager=False)
    _reset_pools()
    try:
        yield request.param
    finally:
        app.conf.update(saved)
        _reset_pools()
        if proxy is not None:
            proxy.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def test_with_the_broker_down_nothing_is_lost(
    committed_tenant: TenantKeys, receiver: Receiver, broker_down: str, tmp_path: Path
) -> None:
    keys = committed_tenant
    admin = ApiClient(keys.host, keys.admin)
    answer = admin.post("/api/v1/webhooks", {"url": receiver.url(), "events": ["level.up", "badge.awarded"]})
    assert answer.status_code == 201, answer.content
    webhook_id = answer.json()["id"]
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    events = [
        {"id": f"b-{i}", "rep": "crm-1", "type": "post_published", "occurred_at": at} for i in range(10)
    ]

    # Ingestion: stored, answered at once. 10 x 10 XP: level 2 (a level.up); 10 posts: first-post
    # and thought-leader (8 posts in 30 days), two badge.awarded.
    answer, seconds = timed(
        lambda: ApiClient(keys.host, keys.integration).post("/api/v1/activities", {"events": events})
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == 10, answer.content
    assert seconds < REQUEST_BOUND_SECONDS, seconds
    # An on-demand recompute: accepted (202) with its job queued, not a 500 after the commit.
    answer, seconds = timed(lambda: admin.post("/api/v1/scores/recompute", {}))
    assert answer.status_code == 202, answer.content
    assert seconds < REQUEST_BOUND_SECONDS, seconds
    job_id = answer.json()["job"]["id"]

    tenant = Tenant.objects.get(slug=keys.slug)
    with tenant_context(tenant):
        rep = Rep.objects.get(external_id="crm-1")
        assert rep.xp == 100
        # The work the broker could not take is in the database.
        assert PendingEvaluation.objects.filter(rep_ids__contains=[rep.id]).exists()
        assert list(
            OutboxEvent.objects.filter(dispatched_at__isnull=True).values_list("type", flat=True)
        ) == ["level.up"]
        assert not BadgeAward.objects.exists()
        assert Job.objects.get(pk=job_id).status == Job.Status.QUEUED
        # A few minutes pass (the sweeps leave fresh rows to their own, possibly late, tasks).
        OutboxEvent.objects.update(created_at=timezone.now() - timedelta(minutes=5))
        Job.objects.filter(pk=job_id).update(created_at=timezone.now() - timedelta(minutes=5))

    log = tmp_path / "worker.log"
    with celery_worker(tmp_path) as worker:  # the broker is back, with a worker
        from gamification.tasks import sweep_pending_evaluations
        from gamification.webhooks.tasks import sweep_outbox
        from scoring.tasks import sweep_jobs

        # What beat sends every minute, in public; the worker fans out per tenant.
        for sweep in (sweep_pending_evaluations, sweep_outbox, sweep_jobs):
            sweep.delay()
        requests = receiver.wait_for(3, timeout=60)
        with tenant_context(tenant):
            wait_for(
                lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 3
                and Job.objects.get(pk=job_id).status == Job.Status.SUCCEEDED,
                what="the deliveries and the job", log=log,
            )  # fmt: skip
            assert worker.poll() is None, log.read_text()[-2000:]
            assert not PendingEvaluation.objects.exists()
            awards = sorted(BadgeAward.objects.values_list("badge__slug", flat=True))
            assert awards == ["first-post", "thought-leader"]
            assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert sorted(json.loads(r.body)["type"] for r in requests) == [
        "badge.awarded",
        "badge.awarded",
        "level.up",
    ]
    assert {d["status"] for d in _deliveries(admin, webhook_id)} == {"succeeded"}


def _deliveries(admin: ApiClient, webhook_id: int) -> list[dict[str, Any]]:
    answer = admin.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    assert answer.status_code == 200, answer.content
    results: list[dict[str, Any]] = answer.json()["results"]
    return results
