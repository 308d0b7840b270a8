"""The default connection as django-tenants' wrapper (typed loosely).

``django.db.connection`` is declared as Django's base wrapper; at run time it
is django-tenants' ``DatabaseWrapper`` with ``set_tenant``,
``set_schema_to_public`` and ``schema_name``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from django.db import connection as _connection

connection: Any = cast(Any, _connection)


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
