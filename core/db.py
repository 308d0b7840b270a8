"""The default connection as django-tenants' wrapper (typed loosely), and what an error of it means.

``django.db.connection`` is declared as Django's base wrapper; at run time it
is django-tenants' ``DatabaseWrapper`` with ``set_tenant``,
``set_schema_to_public`` and ``schema_name``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import psycopg
from django.db import InterfaceError, OperationalError, transaction
from django.db import connection as _connection
from django.db.models import Model

connection: Any = cast(Any, _connection)
M = TypeVar("M", bound=Model)

# Django wraps the driver's errors raised through its cursors; psycopg's own (a raw
# connection, a COPY) come unwrapped: both families.
CONNECTION_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
# The server will not serve this session: too many connections, shutting down (an admin, a
# crash) or starting up. Class 08 (connection exceptions) too.
UNAVAILABLE_SQLSTATES = frozenset({"53300", "57P01", "57P02", "57P03"})


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached: a connection refused, timed out,
    lost, or ended by a server that stops or starts. Retrying later may succeed: the API
    answers 503, a job is retried.

    Nothing else is, though psycopg files many other errors under ``OperationalError`` too
    (a target list over 1,664 columns, a deadlock, a cancelled query; libpq's refusal of
    over 65,535 parameters): the database answered, and the request or the job is at fault.
    """
    error = exc.__cause__ if isinstance(exc.__cause__, psycopg.Error) else exc
    if not isinstance(error, CONNECTION_ERRORS):
        return False
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES
    # No SQLSTATE: libpq's own error. On a connection still open, it refused the statement.
    return not connection_open()


def after_commit(step: Callable[[], object]) -> None:
    """Run ``step`` once the current transaction commits (at once outside one), for what
    follows a committed change: publishing its work, running an eager task.

    A failure of ``step`` is logged with its traceback (Django's ``on_commit(robust=True)``),
    never raised: the change is committed, and an error answer would make its client send
    it again. What ``step`` publishes is in the database, where a sweep finds it.
    """
    transaction.on_commit(step, robust=True)


def connection_open() -> bool:
    """Whether this thread's database connection is open and not broken."""
    raw = connection.connection
    return raw is not None and not raw.closed


@contextmanager
def binary_cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A psycopg cursor on the default connection that binds parameters server-side: with
    ``%b`` placeholders a Python list goes as a binary typed array, not as SQL text quoted
    and parsed element by element (``execute(..., binary=True)`` for binary results too).
    For the hot paths' bulk statements.

    Django's own cursor is opened first, so django-tenants sets the search_path; database
    errors are Django's (``OperationalError`` and friends, the psycopg error as
    ``__cause__``), as from ``connection.cursor()``. Not seen by ``execute_wrapper``.
    """
    with connection.cursor():
        pass
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


class _PreparedCursor(psycopg.Cursor[Any]):
    """Every statement is prepared: PostgreSQL plans it once per connection and reuses the
    plan (re-planning by itself when the ``search_path`` or a table it reads changed)."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)


@contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A Django cursor (``%s`` placeholders, Django's errors, seen by ``execute_wrapper``
    and the query log) whose statements are prepared statements, bound server-side.

    For the few statements every request runs (the tenant by host, the key by prefix,
    the rep card, ``/ssi``, the SSI board): their planning cost as much as running them.
    Name the columns (no ``*``): a prepared ``*`` fails once a migration adds a column to
    the table, until the connection is replaced.
    """
    with connection.cursor():  # django-tenants sets the search_path for this schema
        pass
    raw = _PreparedCursor(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    try:
        yield cursor
    finally:
        cursor.close()


def statements_execute(cursor: Any, sql: str, params: Sequence[Any]) -> None:
    """Run ``sql``, several statements separated by ``;``, in one round trip; their results are
    not read. Django's cursor binds parameters client-side (psycopg's ``ClientCursor``), so
    psycopg sends the query over PostgreSQL's simple protocol, which runs the statements in
    turn, inside the current transaction (else as one implicit transaction). A cursor that
    binds server-side refuses it: tests/core/test_statements_execute.py keeps ours client-side."""
    cursor.execute(sql, params)


def model_columns(model: type[Model], *, table_alias: str = "") -> str:
    """The select list of ``model``'s concrete fields, for ``model_from_row``."""
    qn = connection.ops.quote_name
    prefix = f"{table_alias}." if table_alias else ""
    return ", ".join(prefix + qn(field.column) for field in model._meta.concrete_fields)


def model_from_row(model: type[M], row: Sequence[Any]) -> M:
    """An instance from a row of ``model_columns`` read by a raw cursor, with the fields'
    database converters applied as the ORM would (a JSON field's text is decoded)."""
    fields = model._meta.concrete_fields
    values = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, row, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], values)
