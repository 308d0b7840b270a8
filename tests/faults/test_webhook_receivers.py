"""A tenant's webhook receiver hangs or answers 500: another tenant's deliveries are not held up
behind it, and its own are retried until it recovers, each try counted once.

A single real worker process (one slot: the worst case) takes tenant A's ten
deliveries first, then tenant B's one. Without a limit, A's receiver would
hold the worker for ten timeouts before B's turn. The retry schedule itself
(backoff, last try, refused connections) is covered in
tests/gamification/test_webhooks_delivery.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db.models import Sum
from django.utils import timezone
from django_tenants.utils import tenant_context

from gamification.models import OutboxEvent, WebhookAttempt, WebhookDelivery
from gamification.webhooks.services import deliveries_enqueue
from tenants.models import Tenant
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys
from tests.support.tenants import make_tenant as _make_tenant
from tests.support.webhooks import Receiver, running_receiver
from tests.support.worker import celery_worker, wait_for

pytestmark = pytest.mark.worker

TIMEOUT_SECONDS = 2.0
A_DELIVERIES = 10
# B's delivery waits for the tries already in flight (one timeout), not for each of A's.
B_BOUND_SECONDS = 3 * TIMEOUT_SECONDS + 4


@pytest.fixture
def other_tenant(committed_tenant: TenantKeys) -> Iterator[TenantKeys]:
    from core.db import connection
    from tenants.services import tenant_delete

    keys = _make_tenant(committed_tenant.slug[:40] + "-b", "Other", "Europe/Berlin")
    connection.set_schema_to_public()
    try:
        yield keys
    finally:
        connection.set_schema_to_public()
        tenant = Tenant.objects.filter(slug=keys.slug).first()
        if tenant is not None:
            tenant_delete(tenant=tenant)


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with running_receiver() as bad, running_receiver() as good:
        yield bad, good


def pending_deliveries(keys: TenantKeys, url: str, n: int) -> tuple[Tenant, list[str]]:
    answer = ApiClient(keys.host, keys.admin).post("/api/v1/webhooks", {"url": url, "events": ["level.up"]})
    assert answer.status_code == 201, answer.content
    tenant = Tenant.objects.get(slug=keys.slug)
    with tenant_context(tenant):
        ids = []
        for i in range(n):
            event = OutboxEvent.objects.create(type="level.up", data={"n": i}, dispatched_at=timezone.now())
            delivery = WebhookDelivery.objects.create(subscription_id=answer.json()["id"], event=event)
            ids.append(str(delivery.pk))
    return tenant, ids


def enqueue_in(tenant: Tenant, ids: list[str]) -> None:
    with tenant_context(tenant):
        assert deliveries_enqueue(ids) == len(ids)


def tries_and_attempts(tenant: Tenant) -> tuple[int, int, set[str]]:
    with tenant_context(tenant):
        attempts = WebhookDelivery.objects.aggregate(n=Sum("attempts"))["n"] or 0
        statuses = set(WebhookDelivery.objects.values_list("status", flat=True))
        return WebhookAttempt.objects.count(), attempts, statuses


@pytest.mark.parametrize("fault", ["hangs", "answers-500"])
def test_a_failing_receiver_does_not_hold_up_another_tenant_and_is_retried_until_it_recovers(
    committed_tenant: TenantKeys,
    other_tenant: TenantKeys,
    receivers: tuple[Receiver, Receiver],
    tmp_path: Path,
    fault: str,
) -> None:
    bad, good = receivers
    if fault == "hangs":
        bad.hang = 30  # far past the timeout
    else:
        bad.status = 500
    tenant_a, a_ids = pending_deliveries(committed_tenant, bad.url(), A_DELIVERIES)
    tenant_b, b_ids = pending_deliveries(other_tenant, good.url(), 1)
    log = tmp_path / "worker.log"
    env = {"SSI_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS), "SSI_WEBHOOK_BACKOFF_SECONDS": "1"}
    with celery_worker(tmp_path, extra_env=env) as worker:
        wait_for(lambda: " ready." in log.read_text(), what="the worker", log=log)
        enqueue_in(tenant_a, a_ids)  # A's ten first, in the queue ahead of B's
        started = time.monotonic()
        enqueue_in(tenant_b, b_ids)
        good.wait_for(1, timeout=B_BOUND_SECONDS)
        waited = time.monotonic() - started
        assert waited < B_BOUND_SECONDS, waited

        # A's receiver recovers: every one of its deliveries goes out, on its retry schedule.
        bad.hang, bad.status = 0, 200

        def a_done() -> bool:
            return tries_and_attempts(tenant_a)[2] == {"succeeded"}

        wait_for(a_done, timeout=60, what="A's deliveries after the receiver recovered", log=log)
        assert worker.poll() is None, log.read_text()[-2000:]

    tries, attempts, _ = tries_and_attempts(tenant_a)
    # Each try recorded is a request the receiver got; deliveries held back were not counted as tries.
    assert tries == attempts == len(bad.requests), (tries, attempts, len(bad.requests))
    # Held back while it failed: far fewer requests than one per delivery per backoff round.
    assert len(bad.requests) < 2 * A_DELIVERIES
    with tenant_context(tenant_b):
        assert WebhookDelivery.objects.get().status == "succeeded"
