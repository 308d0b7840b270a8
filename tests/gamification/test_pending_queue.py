"""The evaluation queue: an ingest never waits for an evaluation in progress, and a rep
queued by several ingests is evaluated once (real commits, a second real session).

The broker is down in these tests (tasks run eagerly otherwise, at each commit): the
queue rows stay until an evaluation takes them, as after a broker outage."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from django_tenants.utils import tenant_context

from gamification.models import BadgeAward, PendingEvaluation
from gamification.services import pending, xp
from gamification.services.evaluation import (
    CLAIM_SQL,
    DRAIN_ROWS,
    EVALUATION_SHARE,
    pause_after,
    pending_evaluate,
)
from gamification.services.pending import drain_in_progress, drain_key
from scoring.models import Rep
from scoring.services.ingest import activities_ingest
from tenants.models import Tenant
from tests.support.tenants import TenantKeys

ORIGINAL_ENQUEUE_EVALUATION = xp.enqueue_evaluation


@pytest.fixture(autouse=True)
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> None:
        """What ``core.queue.enqueue`` does when the broker is down: log, publish nothing."""

    monkeypatch.setattr(xp, "enqueue_evaluation", unreachable)


@contextlib.contextmanager
def a_worker_holds_the_queue(tenant: Tenant) -> Iterator[None]:
    """Another worker (a thread with its own connection) holds the tenant's queue, as in a
    pass or between two, until the block ends."""
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        try:
            with tenant_context(tenant), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_lock(hashtextextended(%s, 0))",
                    [drain_key(tenant.schema_name)],
                )
                holding.set()
                release.wait(timeout=30)
                # Let go before the block ends: a closed connection's lock is released by the
                # server a moment later, which the next check could still see held.
                cursor.execute(
                    "SELECT pg_advisory_unlock(hashtextextended(%s, 0))",
                    [drain_key(tenant.schema_name)],
                )
        finally:
            holding.set()
            connections.close_all()

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert holding.wait(timeout=30)
        yield
    finally:
        release.set()
        other.join(timeout=30)


def post(rep: str, event_id: str) -> dict[str, object]:
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return {"id": event_id, "rep": rep, "type": "post_published", "occurred_at": at}


def test_an_ingest_does_not_wait_for_an_evaluation_in_progress(committed_tenant: TenantKeys) -> None:
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    with tenant_context(tenant):
        activities_ingest(tenant=tenant, events=[post("ann", "e-1")])
    claimed = threading.Event()
    release = threading.Event()
    seen: list[list[int]] = []

    def evaluation_in_progress() -> None:
        """A worker that took the queue rows and is still evaluating (then crashes)."""
        try:
            with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(CLAIM_SQL, [DRAIN_ROWS])
                seen.extend(ids for (ids,) in cursor.fetchall())
                claimed.set()
                release.wait(timeout=30)
                raise RuntimeError("crash")
        except RuntimeError:
            pass
        finally:
            claimed.set()
            connections.close_all()

    worker = threading.Thread(target=evaluation_in_progress)
    worker.start()
    try:
        assert claimed.wait(timeout=30)
        with tenant_context(tenant):
            ann_id = Rep.objects.get(external_id="ann").id
            assert seen == [[ann_id]]
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # The old queue (one row per rep, ON CONFLICT DO NOTHING) waited here.
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                result = activities_ingest(tenant=tenant, events=[post("ann", "e-2")])
            assert result.accepted == 1
    finally:
        release.set()
        worker.join(timeout=30)
    with tenant_context(tenant):
        # The crash put the first row back; the second ingest added its own: ann is
        # evaluated once, and first-post awarded once.
        assert sorted(PendingEvaluation.objects.values_list("rep_ids", flat=True)) == [[ann_id], [ann_id]]
        assert pending_evaluate(tenant=tenant) == 1
        assert not PendingEvaluation.objects.exists()
        assert list(BadgeAward.objects.values_list("badge__slug", flat=True)) == ["first-post"]
        assert pending_evaluate(tenant=tenant) == 0


def test_a_rep_queued_by_several_ingests_is_evaluated_once(committed_tenant: TenantKeys) -> None:
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    with tenant_context(tenant):
        for i in range(3):
            activities_ingest(tenant=tenant, events=[post("bob", f"b-{i}"), post(f"other-{i}", f"o-{i}")])
        assert PendingEvaluation.objects.count() == 3
        assert pending_evaluate(tenant=tenant) == 4  # bob, other-0, other-1, other-2
        assert BadgeAward.objects.filter(rep__external_id="bob").count() == 1


def test_one_worker_at_a_time_drains_a_tenants_queue(committed_tenant: TenantKeys) -> None:
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    with tenant_context(tenant):
        activities_ingest(tenant=tenant, events=[post("cat", "c-1")])
    with a_worker_holds_the_queue(tenant), tenant_context(tenant):
        assert pending_evaluate(tenant=tenant) == 0  # left to the worker draining
        assert PendingEvaluation.objects.count() == 1
    with tenant_context(tenant):
        assert pending_evaluate(tenant=tenant) == 1
        assert list(BadgeAward.objects.values_list("badge__slug", flat=True)) == ["first-post"]


@pytest.mark.parametrize(
    ("took", "coalesce", "pause"),
    [
        (0.1, 0.5, 0.5),  # a short pass: the coalescing floor
        (0.2, 0.5, 0.6),  # 0.2 s of work, then 0.6 s of waiting: a quarter of the time
        (2.0, 0.5, 6.0),  # a pass over thousands of reps: still a quarter
        (0.0, 0.0, 0.0),
    ],
)
def test_passes_under_sustained_ingestion_take_a_quarter_of_the_time(
    took: float, coalesce: float, pause: float
) -> None:
    assert pause_after(took, coalesce) == pytest.approx(pause)
    assert took / (took + pause_after(took, coalesce) or 1) <= EVALUATION_SHARE


def test_an_ingest_publishes_no_task_while_a_worker_holds_the_queue(
    committed_tenant: TenantKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker holding the queue looks again after it lets go: the ingest's rows are its."""
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    published: list[str] = []
    monkeypatch.setattr(pending, "enqueue", lambda name, **kwargs: published.append(name))
    with tenant_context(tenant):
        assert not drain_in_progress()
        ORIGINAL_ENQUEUE_EVALUATION()
        assert published == ["gamification.tasks.evaluate_pending"]
    with a_worker_holds_the_queue(tenant), tenant_context(tenant):
        assert drain_in_progress()
        ORIGINAL_ENQUEUE_EVALUATION()
        assert published == ["gamification.tasks.evaluate_pending"]  # nothing more
    with tenant_context(tenant):
        assert not drain_in_progress()
        # The check let go of its shared hold: a worker can take the queue.
        with connection.cursor() as cursor:
            key = drain_key()
            cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key])
            assert cursor.fetchone()[0]
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
