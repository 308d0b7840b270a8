"""Webhooks with real commits: a real Celery worker end to end, the sweep, and racing workers.

Everything here commits (``committed_tenant``), so the on-commit hooks run:
ingestion enqueues ``dispatch_outbox``, which enqueues one ``deliver`` per
delivery, which POSTs to a real receiver on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from gamification.models import OutboxEvent, WebhookDelivery
from gamification.webhooks.delivery import Outcome
from gamification.webhooks.services import delivery_run, outbox_dispatch
from gamification.webhooks.tasks import sweep_outbox
from tenants.models import Tenant
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys
from tests.support.webhooks import Receiver, running_receiver, signed_with
from tests.support.worker import celery_worker, wait_for


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def subscribe(keys: TenantKeys, url: str, events: list[str]) -> dict[str, Any]:
    answer = ApiClient(keys.host, keys.admin).post("/api/v1/webhooks", {"url": url, "events": events})
    assert answer.status_code == 201, answer.content
    created: dict[str, Any] = answer.json()
    return created


def deliveries(keys: TenantKeys, webhook_id: int) -> list[dict[str, Any]]:
    answer = ApiClient(keys.host, keys.admin).get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    assert answer.status_code == 200, answer.content
    results: list[dict[str, Any]] = answer.json()["results"]
    return results


@pytest.mark.worker
def test_a_level_up_is_delivered_by_a_real_worker_and_retried_after_a_500(
    committed_tenant: TenantKeys, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSI_WEBHOOK_BACKOFF_SECONDS", "1")  # the worker's retry comes after ~1 s
    webhook = subscribe(committed_tenant, receiver.url("/ssi"), ["level.up"])
    receiver.fail_next = 1
    at = datetime.now(UTC) - timedelta(minutes=5)
    events = [
        {"id": f"lvl-{i}", "rep": "crm-7", "type": "post_published", "occurred_at": at.isoformat()}
        for i in range(10)  # 10 x 10 XP: level 2
    ]
    log = tmp_path / "worker.log"
    with celery_worker(tmp_path) as worker:
        answer = ApiClient(committed_tenant.host, committed_tenant.integration).post(
            "/api/v1/activities", {"events": events}
        )
        assert answer.status_code == 200 and answer.json()["accepted"] == 10, answer.content
        requests = receiver.wait_for(2, timeout=60)
        done = wait_for(
            lambda: (found := deliveries(committed_tenant, webhook["id"])) and found[0]["status"] != "pending"
            and found,
            what="the delivery to finish", log=log,
        )  # fmt: skip
        assert worker.poll() is None, log.read_text()[-2000:]

    (delivery,) = done
    assert delivery["status"] == "succeeded", delivery
    assert delivery["attempts"] == 2
    assert [t["status_code"] for t in delivery["tries"]] == [500, 200]
    assert delivery["event_type"] == "level.up"
    first, second = requests
    assert first.body == second.body
    body = json.loads(second.body)
    assert body["type"] == "level.up"
    assert body["id"] == delivery["event_id"]
    assert body["data"] == {"rep": "crm-7", "level": 2, "xp": 100}
    assert second.headers["X-SSI-Delivery"] == delivery["id"]
    assert second.headers["X-SSI-Event"] == "level.up"
    assert signed_with(webhook["secret"], second)
    with tenant_context(Tenant.objects.get(slug=committed_tenant.slug)):
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


@pytest.mark.worker
def test_the_sweep_sends_what_the_broker_never_got(
    committed_tenant: TenantKeys, receiver: Receiver, tmp_path: Path
) -> None:
    """The broker was down: an event never dispatched, a delivery whose retry message was lost."""
    webhook = subscribe(committed_tenant, receiver.url(), ["*"])
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    long_ago = timezone.now() - timedelta(minutes=10)
    with tenant_context(tenant):
        # Written without the on-commit kick, as when enqueueing failed.
        stranded = OutboxEvent.objects.create(type="goal.missed", data={"goal": 1}, created_at=long_ago)
        lost = OutboxEvent.objects.create(
            type="scores.computed", data={"date": "2025-01-01"}, dispatched_at=long_ago
        )
        WebhookDelivery.objects.create(
            subscription_id=webhook["id"], event=lost, attempts=1, next_attempt_at=long_ago
        )
    log = tmp_path / "worker.log"
    with celery_worker(tmp_path) as worker:
        assert sweep_outbox() >= 2  # runs in public, as beat runs it; enqueues per tenant
        requests = receiver.wait_for(2, timeout=60)
        wait_for(
            lambda: all(d["status"] == "succeeded" for d in deliveries(committed_tenant, webhook["id"])),
            what="both deliveries", log=log,
        )  # fmt: skip
        assert worker.poll() is None, log.read_text()[-2000:]
    assert sorted(json.loads(r.body)["id"] for r in requests) == sorted([str(stranded.pk), str(lost.pk)])


def in_threads(n: int, tenant: Tenant, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``n`` threads at once, each on its own connection in ``tenant``'s schema."""
    results: list[Any] = [None] * n
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            with tenant_context(tenant):
                barrier.wait()
                results[i] = work()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_two_dispatchers_at_once_fan_each_event_out_once(
    committed_tenant: TenantKeys, receiver: Receiver
) -> None:
    webhook = subscribe(committed_tenant, receiver.url(), ["level.up"])
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    with tenant_context(tenant):
        OutboxEvent.objects.bulk_create(
            [OutboxEvent(type="level.up", data={"rep": f"r{i}", "level": 2, "xp": 100}) for i in range(1200)]
        )
    created = in_threads(3, tenant, outbox_dispatch)
    assert sum(created) == 1200
    with tenant_context(tenant):
        # Tasks are eager here, so each dispatcher sent its deliveries on commit; send what an
        # enqueue could not (after a worker test, the process's broker pool may be closed).
        for pending in WebhookDelivery.objects.filter(status="pending").values_list("pk", flat=True):
            delivery_run(delivery_id=str(pending))
    requests = receiver.wait_for(1200, timeout=30)
    assert len(requests) == 1200
    assert len({json.loads(r.body)["id"] for r in requests}) == 1200
    with tenant_context(tenant):
        assert (
            WebhookDelivery.objects.filter(subscription_id=webhook["id"], status="succeeded").count() == 1200
        )
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def one_pending_delivery(keys: TenantKeys, receiver: Receiver) -> tuple[Tenant, WebhookDelivery]:
    """A level.up subscription to ``receiver`` with one delivery due."""
    webhook = subscribe(keys, receiver.url(), ["level.up"])
    tenant = Tenant.objects.get(slug=keys.slug)
    with tenant_context(tenant):
        event = OutboxEvent.objects.create(type="level.up", data={}, dispatched_at=timezone.now())
        return tenant, WebhookDelivery.objects.create(subscription_id=webhook["id"], event=event)


def test_two_workers_trying_one_delivery_at_once_send_it_once(
    committed_tenant: TenantKeys, receiver: Receiver
) -> None:
    tenant, delivery = one_pending_delivery(committed_tenant, receiver)
    receiver.hang = 0.5

    def attempt() -> Outcome | None:
        return delivery_run(delivery_id=str(delivery.pk))

    outcomes = in_threads(4, tenant, attempt)
    assert len([o for o in outcomes if o is not None]) == 1
    assert len(receiver.requests) == 1
    with tenant_context(tenant):
        delivery.refresh_from_db()
        assert delivery.status == "succeeded" and delivery.attempts == 1


def test_a_webhook_deleted_while_a_try_is_in_flight_is_simply_gone(
    committed_tenant: TenantKeys, receiver: Receiver
) -> None:
    tenant, delivery = one_pending_delivery(committed_tenant, receiver)
    receiver.hang = 1

    def attempt() -> Outcome | None:
        return delivery_run(delivery_id=str(delivery.pk))

    outcomes: list[Any] = []
    worker = threading.Thread(target=lambda: outcomes.extend(in_threads(1, tenant, attempt)))
    worker.start()
    receiver.wait_for(1)  # the try is in flight
    admin = ApiClient(committed_tenant.host, committed_tenant.admin)
    assert admin.delete(f"/api/v1/webhooks/{delivery.subscription_id}").status_code == 204
    worker.join(timeout=30)
    # The try ended normally (no error recording it), and left nothing behind.
    (outcome,) = outcomes
    assert outcome is not None and outcome.status_code == 200
    with tenant_context(tenant):
        assert not WebhookDelivery.objects.exists()
