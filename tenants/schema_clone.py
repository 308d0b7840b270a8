"""Fast tenant schemas: clone a migrated template instead of migrating.

Running every migration for each new tenant takes seconds, more with every
migration added (docs/traps.md#creating-a-tenant-by-migrating-is-slow).
django-tenants' own clone goes through a large PL/pgSQL function and then a
faked ``migrate_schemas`` run, which still loads the whole migration graph.
Ours copies the template's structure with a handful of catalog queries:

* ``CREATE TABLE new.t (LIKE template.t INCLUDING ALL EXCLUDING INDEXES)``
  for every table: columns, defaults, identity columns (each with its own new
  sequence), NOT NULL and CHECK constraints;
* primary keys, unique constraints, indexes and foreign keys re-created
  under their template names from ``pg_get_constraintdef`` and
  ``pg_get_indexdef``, read with the template as the only schema on the
  search path (so references inside the schema come out unqualified and
  resolve inside the new one). ``LIKE`` would rename indexes, and a later
  migration that drops an index by name would then fail on clones;
* storage parameters (``fillfactor``), which ``LIKE`` does not copy;
* the rows of ``django_migrations``, so that ``migrate_schemas`` sees the
  new schema as up to date.

Invariant: tenant-app migrations create structure only; seed data is written
by ``tenants.services`` after cloning (a test checks the template holds no
rows but its migration records).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db.backends.utils import CursorWrapper
from django.db.migrations.loader import MigrationLoader
from psycopg import sql

from core.db import connection

_template_ready_lock = threading.Lock()
_template_checked: set[str] = set()


def template_schema() -> str:
    return str(settings.SSI_TEMPLATE_SCHEMA)


def schema_exists(cursor: CursorWrapper, schema: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
    return cursor.fetchone() is not None


def _tenant_migration_targets() -> set[tuple[str, str]]:
    """Every migration of the tenant apps, as recorded in django_migrations."""
    tenant_apps = {app.rsplit(".", 1)[-1] for app in settings.TENANT_APPS}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {key for key in loader.graph.nodes if key[0] in tenant_apps}


def template_ensure(*, verbosity: int = 0) -> None:
    """Create the template schema if missing and migrate it if behind.

    Checked once per process: afterwards tenant creation costs no migration
    work at all. Deployments run ``manage.py setup_db``, which calls this too.
    """
    schema = template_schema()
    with _template_ready_lock:
        if schema in _template_checked:
            return
        with connection.cursor() as cursor:
            if not schema_exists(cursor, schema):
                cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)).as_string())
                applied: set[tuple[str, str]] = set()
            else:
                cursor.execute(
                    sql.SQL("SELECT app, name FROM {}.django_migrations")
                    .format(sql.Identifier(schema))
                    .as_string()
                    if _has_table(cursor, schema, "django_migrations")
                    else "SELECT NULL, NULL WHERE false"
                )
                applied = {(app, name) for app, name in cursor.fetchall()}
        if not _tenant_migration_targets() <= applied:
            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=schema,
                interactive=False,
                verbosity=verbosity,
            )
        connection.set_schema_to_public()
        _template_checked.add(schema)


def template_forget() -> None:
    """Make the next template_ensure() check the database again (tests, setup_db)."""
    with _template_ready_lock:
        _template_checked.clear()


def _has_table(cursor: CursorWrapper, schema: str, table: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = %s",
        [schema, table],
    )
    return cursor.fetchone() is not None


@dataclass(frozen=True)
class _Structure:
    """What a clone re-creates of its template, as read from the catalog."""

    tables: list[str]
    table_options: list[tuple[str, str]]  # (table, its storage parameters)
    constraints: list[tuple[str, str, str, bool]]  # (table, name, definition, is a foreign key)
    indexes: list[str]  # definitions, pointed at the clone


def clone_schema(*, source: str, target: str) -> None:
    """Create ``target`` as a structural copy of ``source``. Runs in the caller's transaction."""
    # SET LOCAL below only holds inside a transaction; outside one the
    # definitions would name the template and the clone would point into it.
    if not connection.in_atomic_block:
        raise RuntimeError("clone_schema must run inside transaction.atomic()")
    with connection.cursor() as cursor:
        # Read every definition with the template alone on the search path:
        # pg_get_*def then print in-schema names unqualified, and executing
        # them with the target alone on the path recreates them there.
        cursor.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(source)).as_string())
        structure = _structure_read(cursor, source=source, target=target)
        cursor.execute(sql.SQL("; ").join(_clone_statements(structure, source, target)).as_string())
    # The statements above changed search_path behind django-tenants' back;
    # the next cursor must set it again.
    connection.search_path_set_schemas = None


def _structure_read(cursor: CursorWrapper, *, source: str, target: str) -> _Structure:
    """The template's structure; refuses a template that cannot be cloned."""
    tables, table_options = _tables_read(cursor, source)
    _refuse_serial_columns(cursor, source)
    constraints = _constraints_read(cursor, source)
    indexes = _indexes_read(cursor, source=source, target=target)
    return _Structure(tables=tables, table_options=table_options, constraints=constraints, indexes=indexes)


def _tables_read(cursor: CursorWrapper, source: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The template's tables, and the storage parameters of those that have some."""
    cursor.execute(
        """
        SELECT c.relname
          FROM pg_class c
         WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         ORDER BY c.relname
        """,
        [source],
    )
    tables = [row[0] for row in cursor.fetchall()]
    # Storage parameters (the fillfactor of the tables updated in place): LIKE copies none.
    cursor.execute(
        """
        SELECT c.relname, array_to_string(c.reloptions, ', ')
          FROM pg_class c
         WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r' AND c.reloptions IS NOT NULL
         ORDER BY c.relname
        """,
        [source],
    )
    table_options = cursor.fetchall()
    if not tables:
        raise RuntimeError(f"template schema {source!r} has no tables; run `manage.py setup_db`")
    return tables, table_options


def _refuse_serial_columns(cursor: CursorWrapper, source: str) -> None:
    """Sequences of plain serial columns would keep pointing at the template; Django uses
    identity columns, and we rely on it."""
    cursor.execute(
        """
        SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = %s AND column_default LIKE 'nextval(%%'
        """,
        [source],
    )
    serials = cursor.fetchall()
    if serials:
        raise RuntimeError(f"template has serial columns that cannot be cloned: {serials}")


def _constraints_read(cursor: CursorWrapper, source: str) -> list[tuple[str, str, str, bool]]:
    """Constraints that own an index (primary key, unique, exclusion) first, foreign keys
    last (they need the unique indexes they reference)."""
    cursor.execute(
        """
        SELECT cl.relname, con.conname, pg_get_constraintdef(con.oid), con.contype = 'f'
          FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
         WHERE con.connamespace = %s::regnamespace AND con.contype IN ('p', 'u', 'x', 'f')
         ORDER BY con.contype = 'f', cl.relname, con.conname
        """,
        [source],
    )
    return cursor.fetchall()


def _indexes_read(cursor: CursorWrapper, *, source: str, target: str) -> list[str]:
    """Plain indexes (not behind a constraint), under their own names (later migrations drop
    and rename indexes by name), defined on the clone's tables."""
    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid)
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE ic.relnamespace = %s::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                            WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
         ORDER BY ic.relname
        """,
        [source],
    )
    index_defs = [row[0] for row in cursor.fetchall()]
    cursor.execute("SELECT quote_ident(%s), quote_ident(%s)", [source, target])
    source_q, target_q = cursor.fetchone()
    return [_retarget_index(d, source_q=source_q, target_q=target_q) for d in index_defs]


def _clone_statements(structure: _Structure, source: str, target: str) -> list[sql.Composable]:
    """The clone, as statements run with the target alone on the search path."""
    ident = sql.Identifier
    statements: list[sql.Composable] = [
        sql.SQL("CREATE SCHEMA {}").format(ident(target)),
        sql.SQL("SET LOCAL search_path TO {}").format(ident(target)),
    ]
    # Columns, defaults, identity columns (each with a new sequence), NOT
    # NULL and CHECK constraints (under their names), comments, storage.
    statements += [
        sql.SQL("CREATE TABLE {} (LIKE {}.{} INCLUDING ALL EXCLUDING INDEXES)").format(
            ident(table), ident(source), ident(table)
        )
        for table in structure.tables
    ]
    statements += [
        sql.SQL("ALTER TABLE {} SET ({})").format(ident(table), sql.SQL(options))
        for table, options in structure.table_options
    ]
    statements += [
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(ident(table), ident(name)) + sql.SQL(definition)
        for table, name, definition, _is_fk in structure.constraints
    ]
    statements += [sql.SQL(definition) for definition in structure.indexes]
    statements.append(
        sql.SQL(
            "INSERT INTO {}.django_migrations (app, name, applied) "
            "SELECT app, name, applied FROM {}.django_migrations"
        ).format(ident(target), ident(source))
    )
    return statements


def _retarget_index(definition: str, *, source_q: str, target_q: str) -> str:
    """``pg_get_indexdef`` always qualifies the table (as ``quote_ident`` does): point it at the clone."""
    for on in (" ON ONLY ", " ON "):
        marker = f"{on}{source_q}."
        if marker in definition:
            return definition.replace(marker, f"{on}{target_q}.", 1)
    raise RuntimeError(f"unexpected index definition: {definition}")


def drop_schema(*, schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)).as_string())
