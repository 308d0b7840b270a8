"""A suspended tenant's tasks: nothing is scored, evaluated, ticked or delivered while it is
suspended, and what was skipped runs once it is restored; beat's purge drops a schema once, even
with two runs at once (docs/operations.md, "Suspending, restoring and purging a tenant").

The real task functions are called, as beat and a worker call them (tasks run eagerly in tests).
The tenants suspended are throwaway ones; ``acme`` and ``globex`` only stay out of the way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connections, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from access.actor import SYSTEM
from core.db import connection
from gamification.models import Contest, OutboxEvent, PendingEvaluation, WebhookDelivery
from gamification.services.outbox import event_emit
from gamification.tasks import (
    dispatch_contests_tick,
    evaluate_pending,
    sweep_pending_evaluations,
    tick_contests,
)
from gamification.webhooks.services import outbox_dispatch
from gamification.webhooks.tasks import deliver, dispatch_outbox, sweep_outbox
from provisioning.lifecycle import tenant_restore, tenant_suspend, tenants_purge_due
from scoring.models import Job
from scoring.tasks import dispatch_nightly, run_job, sweep_jobs
from tenants.models import Tenant
from tenants.selectors import tenants_active
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys, World, make_tenant
from tests.support.webhooks import Receiver, running_receiver

SUSPENDED_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVENT = {"id": "e-1", "rep": "ann", "type": "post_published", "occurred_at": "2026-03-03T09:00:00Z"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def paused(world: World, db: None) -> TenantKeys:
    """A throwaway tenant (rolled back with the test) with a rep and one stored event."""
    keys = make_tenant("lc-paused", "Paused Ltd", "UTC")
    connection.set_schema_to_public()
    admin = ApiClient(keys.host, keys.admin)
    assert admin.post("/api/v1/reps", {"external_id": "ann", "name": "Ann"}).status_code == 201
    assert admin.post("/api/v1/activities", {"events": [EVENT]}).json()["accepted"] == 1
    connection.set_schema_to_public()
    return keys


def tenant(keys: TenantKeys) -> Tenant:
    return Tenant.objects.get(slug=keys.slug)


def suspend(keys: TenantKeys) -> Tenant:
    return tenant_suspend(tenant=tenant(keys), actor=SYSTEM)


def restore(keys: TenantKeys) -> Tenant:
    return tenant_restore(tenant=tenant(keys), actor=SYSTEM)


def test_tenants_active_leaves_out_the_suspended(paused: TenantKeys) -> None:
    assert "lc-paused" in {t.slug for t in tenants_active()}
    suspend(paused)
    slugs = [t.slug for t in tenants_active()]
    assert "lc-paused" not in slugs
    assert {"acme", "globex"} <= set(slugs)


def test_the_nightly_dispatcher_skips_a_suspended_tenant(paused: TenantKeys) -> None:
    # Only the throwaway tenant is due: recompute hour 0, never scored; the others scored ahead.
    Tenant.objects.filter(slug=paused.slug).update(settings={"_seeded": ["badges"], "recompute_hour": 0})
    Tenant.objects.exclude(slug=paused.slug).update(scored_through=timezone.now().date() + timedelta(days=2))
    suspend(paused)

    assert dispatch_nightly() == 0
    assert tenant(paused).nightly_claim_day is None
    with tenant_context(tenant(paused)):
        assert not Job.objects.exists()

    restore(paused)
    assert dispatch_nightly() == 1  # the same tenant, due all along
    with tenant_context(tenant(paused)):
        assert list(Job.objects.values_list("kind", flat=True)) == ["nightly"]


def test_a_queued_recompute_job_waits_while_suspended_and_runs_once_restored(paused: TenantKeys) -> None:
    answer = ApiClient(paused.host, paused.admin).post("/api/v1/scores/recompute", {"date": "2026-03-03"})
    assert answer.status_code == 202, answer.content
    job_id = answer.json()["job"]["id"]  # queued: the test's transaction never commits its enqueue
    connection.set_schema_to_public()
    suspend(paused)

    with tenant_context(tenant(paused)):
        run_job(job_id)  # a message sent before the suspension, taken by a worker
        assert Job.objects.get(pk=job_id).status == Job.Status.QUEUED
    with tenant_context(tenant(paused)):
        Job.objects.filter(pk=job_id).update(created_at=timezone.now() - timedelta(hours=1))
    assert sweep_jobs() == 0  # nothing swept in a suspended tenant

    restore(paused)
    with tenant_context(tenant(paused)):
        run_job(job_id)
        assert Job.objects.get(pk=job_id).status == Job.Status.SUCCEEDED


def test_pending_evaluations_wait_while_suspended(paused: TenantKeys) -> None:
    with tenant_context(tenant(paused)):
        assert PendingEvaluation.objects.count() == 1  # the ingest queued ann (its enqueue never commits)
    suspend(paused)

    sweep_pending_evaluations()
    with tenant_context(tenant(paused)):
        assert evaluate_pending() == 0
        assert PendingEvaluation.objects.count() == 1

    restore(paused)
    sweep_pending_evaluations()  # eager: the evaluation runs inline
    with tenant_context(tenant(paused)):
        assert PendingEvaluation.objects.count() == 0


def test_contests_are_not_ticked_while_suspended(paused: TenantKeys) -> None:
    answer = ApiClient(paused.host, paused.admin).post(
        "/api/v1/contests",
        {
            "name": "March week",
            "metric": "events.post_published",
            "kind": "leaderboard",
            "start_date": "2026-03-02",
            "end_date": "2026-03-08",  # over by the clock's today
            "participants": {"all": True},
            "prizes": [{"rank": 1, "xp": 100}],
        },
    )
    assert answer.status_code == 201, answer.content
    contest = answer.json()["id"]
    connection.set_schema_to_public()
    suspend(paused)

    dispatch_contests_tick()
    with tenant_context(tenant(paused)):
        assert tick_contests() == {}
        assert Contest.objects.get(pk=contest).status == Contest.Status.SCHEDULED
        assert not OutboxEvent.objects.filter(type="contest.ended").exists()

    restore(paused)
    dispatch_contests_tick()
    with tenant_context(tenant(paused)):
        assert Contest.objects.get(pk=contest).status == Contest.Status.ENDED
        assert OutboxEvent.objects.filter(type="contest.ended").count() == 1


def test_webhooks_are_not_delivered_while_suspended(paused: TenantKeys, receiver: Receiver) -> None:
    admin = ApiClient(paused.host, paused.admin)
    created = admin.post("/api/v1/webhooks", {"url": receiver.url("/paused"), "events": ["level.up"]})
    assert created.status_code == 201, created.content
    connection.set_schema_to_public()
    with tenant_context(tenant(paused)):
        event_emit(type="level.up", data={"rep": "ann", "level": 2, "xp": 120})
        outbox_dispatch()  # one delivery, pending: its message was sent before the suspension
        (delivery,) = WebhookDelivery.objects.values_list("pk", flat=True)
        late = event_emit(type="level.up", data={"rep": "ann", "level": 3, "xp": 320})
        # Written before the suspension and never dispatched (the broker was down): the sweep's.
        OutboxEvent.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(hours=1))
    suspend(paused)

    assert sweep_outbox() == 0
    with tenant_context(tenant(paused)):
        deliver(str(delivery))
        assert dispatch_outbox() == 0
        assert WebhookDelivery.objects.get(pk=delivery).status == WebhookDelivery.Status.PENDING
        assert WebhookDelivery.objects.count() == 1
        assert OutboxEvent.objects.get(pk=late.pk).dispatched_at is None
    assert receiver.requests == []

    restore(paused)
    with tenant_context(tenant(paused)):
        deliver(str(delivery))
        assert WebhookDelivery.objects.get(pk=delivery).status == WebhookDelivery.Status.SUCCEEDED
    assert [r.path for r in receiver.wait_for(1)] == ["/paused"]
    assert sweep_outbox() >= 1
    with tenant_context(tenant(paused)):
        assert OutboxEvent.objects.get(pk=late.pk).dispatched_at is not None


# --- Two purges at once ----------------------------------------------------------------------------


@pytest.fixture
def due(committed_tenant: TenantKeys) -> TenantKeys:
    """A committed tenant, suspended on 2 March 2026: due for its purge from 1 April 2026."""
    tenant_suspend(tenant=tenant(committed_tenant), actor=SYSTEM, now=SUSPENDED_AT)
    return committed_tenant


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def in_thread(target: Any) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_purges_at_once_drop_the_schema_once(due: TenantKeys) -> None:
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def purge() -> None:
        barrier.wait()
        try:
            results.append(tenants_purge_due(now=datetime(2026, 4, 2, tzinfo=UTC)).purged)
        except BaseException as exc:
            errors.append(exc)

    threads = [in_thread(purge) for _ in range(2)]
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [[], [due.slug]]
    assert not schema_exists(due.schema)
    assert not Tenant.objects.filter(slug=due.slug).exists()


def test_a_purge_skips_a_tenant_another_run_holds(due: TenantKeys) -> None:
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            Tenant.objects.select_for_update().get(slug=due.slug)
            held.set()
            release.wait(timeout=30)

    holder = in_thread(hold)
    assert held.wait(timeout=30)
    try:
        assert tenants_purge_due(now=datetime(2026, 4, 2, tzinfo=UTC)).purged == []
        assert schema_exists(due.schema)
    finally:
        release.set()
        holder.join(timeout=30)
    assert tenants_purge_due(now=datetime(2026, 4, 2, tzinfo=UTC)).purged == [due.slug]
    assert not schema_exists(due.schema)


def test_no_purge_before_the_day(due: TenantKeys) -> None:
    assert tenants_purge_due(now=datetime(2026, 4, 1, 7, 59, tzinfo=UTC)).purged == []
    assert schema_exists(due.schema)
    assert date(2026, 4, 1) == tenant(due).purge_after.date()  # type: ignore[union-attr]
