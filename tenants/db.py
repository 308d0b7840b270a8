"""The default connection as django-tenants' wrapper (typed loosely).

``django.db.connection`` is declared as Django's base wrapper; at run time it
is django-tenants' ``DatabaseWrapper`` with ``set_tenant``,
``set_schema_to_public`` and ``schema_name``.
"""

from __future__ import annotations

from typing import Any, cast

from django.db import connection as _connection

connection: Any = cast(Any, _connection)
