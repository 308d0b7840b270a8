"""The backend's health check (tenants/postgresql_backend): no round trip for a connection
that is fine, and every ended session still found unusable (then Django reconnects)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from core.db import connection
from tenants.postgresql_backend.base import DatabaseWrapper


@pytest.fixture
def other(db: None) -> Iterator[Any]:
    """A second connection to the test database, in autocommit, idle (as between requests)."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def backend_pid(wrapper: Any) -> int:
    with wrapper.connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_the_default_connection_uses_the_backend() -> None:
    assert isinstance(connections["default"], DatabaseWrapper)


def test_an_idle_healthy_connection_is_usable_without_a_statement(other: Any) -> None:
    def no_statement(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the health check ran a statement")

    other.connection.cursor = no_statement
    assert other.is_usable()


def test_a_terminated_session_is_not_usable_and_the_wrapper_reconnects(other: Any) -> None:
    pid = backend_pid(other)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True
    deadline = time.monotonic() + 5
    while other.is_usable() and time.monotonic() < deadline:  # the FATAL message is on its way
        time.sleep(0.05)
    assert not other.is_usable()
    # What Django does at the start of a request with CONN_HEALTH_CHECKS: close, then connect.
    other.health_check_enabled, other.health_check_done = True, False
    other.close_if_health_check_failed()
    assert other.connection is None
    other.ensure_connection()
    assert backend_pid(other) != pid


def test_a_connection_with_unread_input_gets_the_real_check(other: Any) -> None:
    """Anything waiting on the socket (here a notification) is left to SELECT 1, which reads it."""
    with other.connection.cursor() as cursor:
        cursor.execute("LISTEN ssi_health")
    # From an autocommit connection (the test's own transaction would never send it).
    third = connections.create_connection("default")
    try:
        third.ensure_connection()
        with third.connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify('ssi_health', 'x')")
    finally:
        third.close()
    calls = []
    real_cursor = other.connection.cursor

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real_cursor(*args, **kwargs)

    deadline = time.monotonic() + 5
    other.connection.cursor = counting
    while not calls and time.monotonic() < deadline:
        assert other.is_usable()
        time.sleep(0.05)
    assert calls  # the socket had input: SELECT 1 ran
