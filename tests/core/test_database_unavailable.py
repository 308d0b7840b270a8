"""``core.db.database_unavailable``: which database errors are an outage (503, a job retried).

Real errors, from the real PostgreSQL and libpq: a connection refused or ended by the
server is an outage; a statement refused (by PostgreSQL or by libpq) on a working
connection is not, even when psycopg files it under ``OperationalError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, transaction

from core.db import binary_cursor, connection, database_unavailable

# PostgreSQL refuses a target list over 1,664 entries (SQLSTATE 54011, an OperationalError).
TOO_MANY_COLUMNS = "SELECT " + ", ".join(["1"] * 1700)


def raised_by(sql: str, params: Any = None) -> DatabaseError:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return caught.value


@pytest.mark.parametrize(
    ("sql", "cause"),
    [
        (TOO_MANY_COLUMNS, psycopg.errors.TooManyColumns),
        ("SELECT 1 / 0", psycopg.errors.DivisionByZero),
        ("SELECT no_such_column FROM scoring_team", psycopg.errors.UndefinedTable),
        ("SELECT '2026-13-45'::date", psycopg.errors.DatetimeFieldOverflow),
    ],
    ids=["too-many-columns", "data-error", "programming-error", "bad-value"],
)
def test_a_statement_postgresql_refuses_is_not_an_outage(
    db: None, sql: str, cause: type[psycopg.Error]
) -> None:
    error = raised_by(sql)
    unwrapped = error.__cause__  # as a raw psycopg cursor raises it
    assert isinstance(unwrapped, cause)
    assert not database_unavailable(error)
    assert not database_unavailable(unwrapped)


def test_a_statement_libpq_refuses_to_send_is_not_an_outage(db: None) -> None:
    """Over 65,535 bound parameters: libpq's error, without a SQLSTATE, on a working connection."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), binary_cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["%s"] * 70_000), [1] * 70_000)
    unwrapped = caught.value.__cause__
    assert isinstance(unwrapped, psycopg.OperationalError) and unwrapped.sqlstate is None
    assert not database_unavailable(caught.value)


@pytest.fixture
def own_connection(django_db_blocker: Any) -> Iterator[None]:
    """This thread's connection, outside any test transaction, closed again afterwards."""
    with django_db_blocker.unblock():
        connection.close()
        try:
            yield
        finally:
            connection.close()


def test_a_refused_connection_is_an_outage(own_connection: None, unused_port: int) -> None:
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(unused_port))
    try:
        with pytest.raises(DatabaseError) as caught:
            connection.ensure_connection()
    finally:
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert database_unavailable(caught.value)


def test_a_session_the_server_ends_is_an_outage(own_connection: None) -> None:
    """A restart or an admin terminates the backend: AdminShutdown (57P01)."""
    with pytest.raises(DatabaseError) as caught, connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert database_unavailable(caught.value)


def test_errors_that_are_not_the_databases_are_not_an_outage() -> None:
    assert not database_unavailable(ValueError("no"))
    assert not database_unavailable(psycopg.errors.DeadlockDetected("deadlock detected"))


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
