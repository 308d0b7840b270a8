"""The database backend (``ENGINE = "tenants.postgresql_backend"``): django-tenants' wrapper
with a health check that costs no round trip while nothing is wrong, and prepared statements
where they are asked for.

``CONN_HEALTH_CHECKS`` has Django check a reused connection before the first query of every
request, with a ``SELECT 1``: one round trip more per request, on reads that need only a
few. A PostgreSQL session that ended (a server restart or crash, ``pg_terminate_backend``,
an idle timeout, a proxy that closed its side) leaves its socket readable: the server's
``FATAL`` message, or the end of the stream, waits in it. So an idle connection whose socket
has nothing to read is usable as it is; anything else (something to read, a transaction
open, a state psycopg calls bad) gets Django's ``SELECT 1``, which decides.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantsDatabaseWrapper
from psycopg import pq

# Django turns psycopg's prepared statements off (``prepare_threshold=None``: its own cursors
# bind client-side), and psycopg then refuses even an explicit ``execute(prepare=True)``.
# ``core.db.prepared_cursor`` prepares the few statements every request runs, on purpose;
# with a threshold no statement reaches, every other statement stays unprepared (the
# nightly's large queries keep their custom plans).
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


def _nothing_to_read(fileno: int) -> bool:
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


class DatabaseOperations(PostgresOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        # psycopg keeps no query text for a prepared statement's execution: the query log
        # (DEBUG, tests' query capture) shows the statement with its placeholders.
        return super().last_executed_query(cursor, sql, params) or sql


class DatabaseWrapper(TenantsDatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if params.get("prepare_threshold") is None:
            params["prepare_threshold"] = PREPARE_ONLY_WHEN_ASKED
        return params

    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed:
            return False
        try:
            pgconn = conn.pgconn
            idle = (
                pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status == pq.TransactionStatus.IDLE
            )
            if idle and _nothing_to_read(conn.fileno()):
                return True
        except (OSError, ValueError, AttributeError):  # no socket any more, or not psycopg 3
            pass
        return bool(super().is_usable())
