"""Events, the rollup and the XP ledger keep no row for a deleted rep, without a foreign key.

They name their rep without a database foreign key (its per-row check was the largest
cost of an ingest after the insert); a tenant-wide lock, shared by every writer of those
rows and exclusive for a rep's deletion, keeps what the key guaranteed. These tests
commit for real, in threads, and fail without the lock: a deletion that does not wait
for the ingest in flight leaves that ingest's rows behind.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection as default_connection
from django.db import connections, transaction
from django_tenants.utils import schema_context, tenant_context

from scoring.models import Rep
from scoring.services.ingest import activities_ingest
from scoring.services.people import REP_ROWS_TABLES, rep_delete
from tenants.models import Tenant
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys


def events(prefix: str, rep: str, n: int) -> list[dict[str, Any]]:
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return [
        {"id": f"{prefix}-{i}", "rep": rep, "type": "post_published", "occurred_at": at} for i in range(n)
    ]


def orphans(schema: str) -> dict[str, int]:
    """Rows of each table whose rep does not exist."""
    counts = {}
    with schema_context(schema), default_connection.cursor() as cursor:
        for table in REP_ROWS_TABLES:
            cursor.execute(
                f"SELECT count(*) FROM {table} t WHERE NOT EXISTS "
                "(SELECT 1 FROM scoring_rep r WHERE r.id = t.rep_id)"
            )
            counts[table] = cursor.fetchone()[0]
    return counts


def rows_of(schema: str, rep_id: int) -> dict[str, int]:
    counts = {}
    with schema_context(schema), default_connection.cursor() as cursor:
        for table in REP_ROWS_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE rep_id = %s", [rep_id])
            counts[table] = cursor.fetchone()[0]
    return counts


def test_deleting_a_rep_deletes_its_events_rollup_and_xp_and_nothing_else(
    committed_tenant: TenantKeys,
) -> None:
    client = ApiClient(committed_tenant.host, committed_tenant.admin)
    answer = client.post("/api/v1/activities", {"events": events("a", "gone", 5) + events("b", "kept", 3)})
    assert answer.status_code == 200, answer.content
    schema = committed_tenant.schema
    with schema_context(schema):
        gone = Rep.objects.get(external_id="gone").pk
        kept = Rep.objects.get(external_id="kept").pk
    assert all(rows_of(schema, gone).values()), rows_of(schema, gone)

    assert client.delete("/api/v1/reps/gone").status_code == 204

    assert rows_of(schema, gone) == dict.fromkeys(REP_ROWS_TABLES, 0)
    assert rows_of(schema, kept) == {
        "scoring_activity": 3,
        "scoring_activitydaily": 1,
        "gamification_xpdaily": 1,
    }
    assert orphans(schema) == dict.fromkeys(REP_ROWS_TABLES, 0)


def _waiting_on_advisory_lock(pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted", [pid]
        )
        return cursor.fetchone() is not None


def test_a_deletion_waits_for_the_ingest_in_flight_and_removes_what_it_stored(
    committed_tenant: TenantKeys,
) -> None:
    schema = committed_tenant.schema
    tenant = Tenant.objects.get(schema_name=schema)
    with schema_context(schema):
        rep_id = RepFactory.create(external_id="r1").pk
    ingested = threading.Event()
    commit_now = threading.Event()
    deleter_pid: list[int] = []
    failures: list[BaseException] = []

    def ingest() -> None:
        try:
            with tenant_context(tenant), transaction.atomic():
                result = activities_ingest(tenant=tenant, events=events("inflight", "r1", 4))
                assert result.accepted == 4
                ingested.set()
                assert commit_now.wait(30)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            ingested.set()
        finally:
            connections.close_all()

    def delete() -> None:
        try:
            with tenant_context(tenant):
                with default_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    deleter_pid.append(cursor.fetchone()[0])
                rep_delete(rep=Rep.objects.get(pk=rep_id))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    ingester = threading.Thread(target=ingest)
    ingester.start()
    assert ingested.wait(30)
    deleter = threading.Thread(target=delete)
    deleter.start()
    # The deletion waits for the ingest's transaction (on the lock, not on a row).
    deadline = time.monotonic() + 30
    while not (deleter_pid and _waiting_on_advisory_lock(deleter_pid[0])):
        assert deleter.is_alive() and time.monotonic() < deadline, (failures, "the deletion did not wait")
        time.sleep(0.02)
    commit_now.set()
    ingester.join(30)
    deleter.join(30)
    assert not failures, failures
    with schema_context(schema):
        assert not Rep.objects.filter(pk=rep_id).exists()
    assert rows_of(schema, rep_id) == dict.fromkeys(REP_ROWS_TABLES, 0)
    assert orphans(schema) == dict.fromkeys(REP_ROWS_TABLES, 0)


def test_ingests_racing_deletions_of_their_rep_leave_no_orphan_rows(committed_tenant: TenantKeys) -> None:
    """Over HTTP: batches for one rep while it is deleted again and again (it comes back,
    auto-created, with a new id). Whatever the interleaving, no row outlives its rep."""
    client = ApiClient(committed_tenant.host, committed_tenant.admin)
    schema = committed_tenant.schema
    stop = threading.Event()
    statuses: list[int] = []

    def post(worker: int) -> None:
        try:
            n = 0
            while not stop.is_set():
                n += 1
                answer = ApiClient(committed_tenant.host, committed_tenant.integration).post(
                    "/api/v1/activities", {"events": events(f"w{worker}-{n}", "flappy", 20)}
                )
                statuses.append(answer.status_code)
        finally:
            connections.close_all()

    posters = [threading.Thread(target=post, args=(i,)) for i in range(3)]
    for thread in posters:
        thread.start()
    deleted = 0
    try:
        for _ in range(15):
            time.sleep(0.05)
            if client.delete("/api/v1/reps/flappy").status_code == 204:
                deleted += 1
    finally:
        stop.set()
        for thread in posters:
            thread.join(60)
    assert set(statuses) == {200}, statuses
    assert deleted >= 5
    assert orphans(schema) == dict.fromkeys(REP_ROWS_TABLES, 0)
