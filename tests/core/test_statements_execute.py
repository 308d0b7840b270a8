"""``core.db.statements_execute``: several statements in one round trip, which holds only while
Django's cursor binds parameters client-side."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection as django_connection

from core.db import connection, statements_execute

pytestmark = pytest.mark.django_db


def test_the_cursor_binds_client_side() -> None:
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, psycopg.ClientCursor)


def test_every_statement_runs_in_order_in_one_round_trip() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE t (n int)")
        sent: list[str] = []

        def count(execute, sql, params, many, context):
            sent.append(sql)
            return execute(sql, params, many, context)

        with django_connection.execute_wrapper(count):
            statements_execute(
                cursor,
                "INSERT INTO t VALUES (%s); UPDATE t SET n = n * %s; INSERT INTO t VALUES (%s)",
                [2, 10, 7],
            )
        assert len(sent) == 1
        cursor.execute("SELECT n FROM t ORDER BY n")
        assert [n for (n,) in cursor.fetchall()] == [7, 20]
