"""The database goes away and comes back, under a real gunicorn: 503 JSON with Retry-After, then normal.

gunicorn reaches PostgreSQL through a proxy the test controls (see
``tests.support.faults``), with its usual persistent connection (CONN_MAX_AGE), so
each fault also hits a connection the app believes is open.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from tests.support.faults import Answer, AppServer, TcpProxy, app_server, database_proxy
from tests.support.http import PLATFORM_HOST
from tests.support.tenants import TenantKeys, World

pytestmark = pytest.mark.worker  # starts processes

CONNECT_TIMEOUT = 2


@pytest.fixture
def stack(tmp_path: Path, world: World, django_db_blocker: Any) -> Iterator[tuple[TcpProxy, AppServer]]:
    with django_db_blocker.unblock(), database_proxy() as (proxy, url):
        env = {"DATABASE_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT)}
        with app_server(tmp_path, url, env) as server:
            yield proxy, server


def events(prefix: str, n: int = 3) -> bytes:
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    batch = [
        {"id": f"{prefix}-{i}", "rep": "crm-1", "type": "post_published", "occurred_at": at} for i in range(n)
    ]
    return json.dumps({"events": batch}).encode()


def assert_unavailable(answer: Answer) -> None:
    """The documented error shape, 503, retryable: never a 500 or an HTML page."""
    assert answer.status == 503, (answer.status, answer.body[:300])
    assert answer.headers["Content-Type"].startswith("application/json"), answer.headers
    assert int(answer.headers["Retry-After"]) > 0
    body = answer.json()
    assert body["type"] == "server_error"
    assert [e["code"] for e in body["errors"]] == ["service_unavailable"], body


def every_kind_of_request(server: AppServer, keys: TenantKeys, world: World, tag: str) -> list[Answer]:
    """Routing by host, by X-Tenant, the platform API, a read, a write: the paths a request can take."""
    return [
        server.request("GET", "/api/v1/reps", host=keys.host, token=keys.admin),
        server.request(
            "GET", "/api/v1/reps", host=PLATFORM_HOST, token=keys.admin, headers={"X-Tenant": keys.slug}
        ),
        server.request("GET", "/api/v1/platform/tenants", host=PLATFORM_HOST, token=world.platform_key),
        ingest(server, keys, tag),
    ]


def ingest(server: AppServer, keys: TenantKeys, tag: str) -> Answer:
    return server.request(
        "POST", "/api/v1/activities", host=keys.host, token=keys.integration, body=events(tag)
    )


def stored_events(server: AppServer, keys: TenantKeys) -> set[str]:
    answer = server.request("GET", "/api/v1/activities?rep=crm-1", host=keys.host, token=keys.admin)
    assert answer.status == 200, answer.body[:300]
    return {item["id"] for item in answer.json()["results"]}


def test_database_down_then_back_without_a_restart(
    stack: tuple[TcpProxy, AppServer], committed_tenant: TenantKeys, world: World
) -> None:
    proxy, server = stack
    keys = committed_tenant
    assert [a.status for a in every_kind_of_request(server, keys, world, "before")] == [200, 200, 200, 200]

    proxy.down()  # PostgreSQL stops: refused, and the app's open connection is dead
    ready = server.request("GET", "/readyz", host="127.0.0.1")
    assert ready.status == 503 and ready.json()["checks"]["database"] == "unavailable", ready.body
    for answer in every_kind_of_request(server, keys, world, "down"):
        assert_unavailable(answer)
    assert server.request("GET", "/healthz", host="127.0.0.1").status == 200  # alive, not ready

    proxy.up()  # back: the same gunicorn worker, no restart
    ready = server.request("GET", "/readyz", host="127.0.0.1")
    assert ready.status == 200, ready.body
    assert [a.status for a in every_kind_of_request(server, keys, world, "after")] == [200, 200, 200, 200]
    assert stored_events(server, keys) == {f"{tag}-{i}" for tag in ("before", "after") for i in range(3)}
    assert server.process.poll() is None, server.tail()


def test_a_database_that_stops_answering_is_a_503_within_the_connect_timeout(
    stack: tuple[TcpProxy, AppServer], committed_tenant: TenantKeys, world: World
) -> None:
    """The host vanished (connections hang, nothing refuses): no request waits for gunicorn's kill."""
    proxy, server = stack
    keys = committed_tenant
    assert server.request("GET", "/api/v1/reps", host=keys.host, token=keys.admin).status == 200

    proxy.blackhole()
    started = time.monotonic()
    ready = server.request("GET", "/readyz", host="127.0.0.1", timeout=25)
    assert ready.status == 503, ready.body
    for answer in every_kind_of_request(server, keys, world, "hole"):
        assert_unavailable(answer)
    # Five requests, each bounded by the connect timeout (not gunicorn's 30 s worker timeout).
    assert time.monotonic() - started < 5 * (CONNECT_TIMEOUT + 3)

    proxy.up()
    assert [a.status for a in every_kind_of_request(server, keys, world, "back")] == [200, 200, 200, 200]
    assert server.process.poll() is None, server.tail()


def _backend_waiting_on_a_lock(database: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
            " AND query ILIKE '%%scoring_activity%%'",
            [database],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def test_a_connection_killed_mid_request_is_a_503_and_the_next_request_reconnects(
    stack: tuple[TcpProxy, AppServer], committed_tenant: TenantKeys, django_db_blocker: Any
) -> None:
    """A restart (or an admin) terminates the backend while a request is inside its transaction:
    psycopg's AdminShutdown. The answer is a 503; the next request gets a fresh connection."""
    _, server = stack
    keys = committed_tenant
    assert server.request("GET", "/api/v1/reps", host=keys.host, token=keys.admin).status == 200
    settings = connection.settings_dict
    database = str(settings["NAME"])
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT schema_name FROM tenants_tenant WHERE slug = %s", [keys.slug])
            schema = cursor.fetchone()[0]
        # Another session holds the events table: the ingest blocks at a known point.
        locker = psycopg.connect(
            dbname=database, host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
            autocommit=False,
        )  # fmt: skip
        answers: list[Answer] = []
        try:
            locker.execute(f'LOCK TABLE "{schema}".scoring_activity IN ACCESS EXCLUSIVE MODE')
            request = threading.Thread(target=lambda: answers.append(ingest(server, keys, "killed")))
            request.start()
            deadline = time.monotonic() + 20
            while (pid := _backend_waiting_on_a_lock(database)) is None:
                assert time.monotonic() < deadline, "the ingest never blocked on the lock"
                time.sleep(0.1)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            request.join(timeout=25)
        finally:
            locker.close()
    (answer,) = answers
    assert_unavailable(answer)
    retried = ingest(server, keys, "killed")
    assert retried.status == 200 and retried.json()["accepted"] == 3, retried.body
    assert stored_events(server, keys) == {f"killed-{i}" for i in range(3)}


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.OperationalError("connection is lost"),
        psycopg.InterfaceError("the connection is closed"),
    ],
    ids=["admin-shutdown", "operational", "interface"],
)
def test_an_outage_that_escapes_the_views_is_still_a_503(error: Exception, monkeypatch: Any) -> None:
    """Django's last resort (handler500) runs while the exception is handled: an unwrapped psycopg
    error (outside Django's cursor wrapper) or one raised outside DRF is a 503, not a 500. The
    errors without a SQLSTATE are libpq's: an outage when the connection is gone with them."""
    import core.db

    monkeypatch.setattr(core.db, "connection_open", lambda: False)
    response = _handler500_answer(error)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert json.loads(response.content)["errors"][0]["code"] == "service_unavailable"


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.TooManyColumns("target lists can have at most 1664 entries"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.OperationalError("sending query and params failed: number of parameters must be ..."),
    ],
    ids=["too-many-columns", "deadlock", "libpq-refused-the-statement"],
)
def test_a_refused_statement_that_escapes_the_views_is_a_500(error: Exception, monkeypatch: Any) -> None:
    """The same families, on a database that answers: a bug, never a 503 inviting a retry."""
    import core.db

    monkeypatch.setattr(core.db, "connection_open", lambda: True)
    response = _handler500_answer(error)
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert json.loads(response.content)["errors"][0]["code"] == "server_error"


def _handler500_answer(error: Exception) -> Any:
    from django.test import RequestFactory

    from api.errors import handler500

    try:
        raise error
    except Exception:
        return handler500(RequestFactory().get("/api/v1/reps"))
