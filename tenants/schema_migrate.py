"""Migrating every tenant schema: fast, resumable, with progress.

django-tenants' ``migrate_schemas`` runs Django's ``migrate`` once per schema: each run
loads the migration graph and renders the project state again, hundreds of milliseconds
per tenant before any DDL (docs/operations.md#migrating-every-tenant). ``SchemaMigrator``
does that work once per process and then, per schema:

* reads the schema's ``django_migrations`` (what is applied there);
* applies the migrations still missing (Django's ``MigrationExecutor.apply_migration``),
  each in one transaction with its record, from a copy of the project state rendered
  once for every schema at the same point of the graph.

The record is written in the migration's transaction (Django's own ``migrate`` records a
migration whose index was deferred after committing it), so a run interrupted at any
point leaves each schema either migrated and recorded or untouched: running it again
does only what is left. ``schemas_migrate`` spreads the schemas over a few processes.

Extra migrations (``extra``): migrations that are not in an app's migration modules,
inserted into the graph by this runner only (the bench applies one to its own tenants,
bench/tenant_migration.py). One without dependencies follows its app's latest migration.
"""

from __future__ import annotations

import importlib
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState
from django_tenants.utils import get_public_schema_name

from core.db import connection

Key = tuple[str, str]  # (app label, migration name)


class SchemaRecorder(MigrationRecorder):
    """Django's recorder, except how it checks that ``django_migrations`` exists: in the current
    schema only (the migrator's ``search_path`` is that schema alone), by name. Django's check
    lists every table visible, which scans all of ``pg_class``: with thousands of tenant
    schemas that is hundreds of thousands of relations, ~100 ms a schema, and a pass over every
    schema grows with the square of their number."""

    _has_table: bool

    def has_table(self) -> bool:
        if not self._has_table:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [self.Migration._meta.db_table])
                self._has_table = bool(cursor.fetchone()[0])
        return self._has_table


def extra_migration_load(path: str) -> Migration:
    """The migration defined by module ``path``: its ``Migration`` class, named by the module's
    ``NAME`` and ``APP_LABEL`` (a tenant app's label: the tenant router lets only those run in a
    tenant schema)."""
    module = importlib.import_module(path)
    migration: Migration = module.Migration(module.NAME, module.APP_LABEL)
    return migration


class SchemaMigrator:
    """The migration graph of the tenant apps, loaded and rendered once; ``migrate(schema)``
    brings one schema up to date. One per process (it holds the process's connection)."""

    def __init__(self, *, extra: Sequence[Migration] = ()) -> None:
        self.loader = MigrationLoader(None, ignore_no_migrations=True)
        graph = self.loader.graph
        for migration in extra:
            key = (migration.app_label, migration.name)
            parents = list(migration.dependencies) or [
                node for node in graph.leaf_nodes(migration.app_label) if node != key
            ]
            migration.dependencies = parents  # type: ignore[misc]
            graph.add_node(key, migration)
            for parent in parents:
                graph.add_dependency(migration, key, parent)
        graph.validate_consistency()
        tenant_apps = {app.rsplit(".", 1)[-1] for app in settings.TENANT_APPS}
        targets = [node for node in graph.leaf_nodes() if node[0] in tenant_apps]
        self.plan: list[Key] = []
        for target in targets:
            for node in graph.forwards_plan(target):
                if node not in self.plan:
                    self.plan.append(node)
        self._states: dict[tuple[Key, ...], ProjectState] = {}

    def pending(self, applied: set[Key]) -> list[Key]:
        """The migrations of the plan not in ``applied``, in order."""
        return [key for key in self.plan if key not in applied]

    def _state(self, applied: tuple[Key, ...]) -> ProjectState:
        """The project state after ``applied`` (in plan order), rendered once and copied:
        rendering the models is most of what ``migrate`` costs per schema."""
        state = self._states.get(applied)
        if state is None:
            state = ProjectState(real_apps=self.loader.unmigrated_apps)
            for key in applied:
                self.loader.graph.nodes[key].mutate_state(state, preserve=False)
            state.apps  # noqa: B018 (renders the models now, once)
            self._states[applied] = state
        return state.clone()

    def migrate(self, schema: str) -> int:
        """Apply to ``schema`` what its ``django_migrations`` does not record; how many applied."""
        connection.set_schema(schema, include_public=False)
        recorder = SchemaRecorder(connection)
        applied = set(recorder.applied_migrations())
        pending = self.pending(applied)
        if not pending:
            return 0
        state = self._state(tuple(key for key in self.plan if key in applied))
        executor = MigrationExecutor.__new__(MigrationExecutor)  # its loader is ours: no reload
        executor.connection = connection
        executor.loader = self.loader
        executor.recorder = recorder
        executor.progress_callback = None
        for key in pending:
            migration = self.loader.graph.nodes[key]
            if not migration.atomic:  # CREATE INDEX CONCURRENTLY and the like: no transaction can hold it
                state = executor.apply_migration(state, migration)
                continue
            # Django records a migration whose schema editor deferred statements (an index,
            # a foreign key) only after that editor's transaction committed: a process
            # killed in between leaves the change made and unrecorded, and the next run
            # fails on it. One transaction around both closes that window.
            with transaction.atomic():
                state = executor.apply_migration(state, migration)
        return len(pending)


@dataclass
class Progress:
    """Where a run stands: schemas done (migrated or already up to date) of ``total``."""

    total: int
    started: float = field(default_factory=time.monotonic)
    migrated: int = 0
    up_to_date: int = 0
    migrations: int = 0

    @property
    def done(self) -> int:
        return self.migrated + self.up_to_date

    def add(self, applied: int) -> None:
        if applied:
            self.migrated += 1
            self.migrations += applied
        else:
            self.up_to_date += 1

    def line(self, now: float | None = None) -> str:
        return progress_line(self.done, self.total, (now or time.monotonic()) - self.started)


def progress_line(done: int, total: int, seconds: float) -> str:
    """``n/N tenants, rate/min, ETA m:ss``."""
    rate = done / seconds * 60 if seconds > 0 else 0.0
    eta = (total - done) / rate * 60 if rate > 0 else None
    eta_text = "?" if eta is None else f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{done}/{total} tenants, {rate:,.0f}/min, ETA {eta_text}"


def tenant_schemas(*, slug_prefix: str = "", template: bool = True) -> list[str]:
    """The schemas to migrate: the template first (new tenants are its clones), then every
    tenant's, by id; with ``slug_prefix`` only those tenants (and not the template)."""
    from tenants.models import Tenant
    from tenants.schema_clone import template_schema

    tenants = Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("id")
    if slug_prefix:
        tenants = tenants.filter(slug__startswith=slug_prefix)
    schemas = list(tenants.values_list("schema_name", flat=True))
    if template and not slug_prefix:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [template_schema()])
            if cursor.fetchone():
                schemas.insert(0, template_schema())
    return schemas


# --- Several processes -----------------------------------------------------------------------

_migrator: SchemaMigrator | None = None
_extra_paths: tuple[str, ...] = ()


def _child_migrate(schema: str) -> tuple[str, int]:
    global _migrator
    if _migrator is None:
        _migrator = SchemaMigrator(extra=[extra_migration_load(p) for p in _extra_paths])
    return schema, _migrator.migrate(schema)


def schemas_migrate(
    schemas: Sequence[str],
    *,
    extra: Sequence[str] = (),
    processes: int = 1,
    on_schema: Callable[[str, int], None] | None = None,
) -> Progress:
    """Migrate ``schemas`` (``extra``: module paths of extra migrations), in this process or
    in ``processes`` forked ones; ``on_schema(schema, applied)`` after each. A Ctrl-C stops the
    run: the schemas being migrated roll back, the others are done or untouched."""
    global _extra_paths
    progress = Progress(total=len(schemas))
    _extra_paths = tuple(extra)
    results: Iterator[tuple[str, int]]
    try:
        if processes <= 1:
            migrator = SchemaMigrator(extra=[extra_migration_load(p) for p in extra])
            results = ((schema, migrator.migrate(schema)) for schema in schemas)
            for schema, applied in results:
                progress.add(applied)
                if on_schema:
                    on_schema(schema, applied)
        else:
            connections.close_all()  # the children must not share this process's connection
            context = multiprocessing.get_context("fork")
            with context.Pool(processes) as pool:
                try:
                    for schema, applied in pool.imap_unordered(_child_migrate, schemas):
                        progress.add(applied)
                        if on_schema:
                            on_schema(schema, applied)
                except BaseException:
                    pool.terminate()  # their open transactions roll back with their connections
                    raise
    finally:
        connection.set_schema_to_public()
    return progress


# --- The catalog ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogSize:
    """What the system catalog holds for tenant schemas: relations (tables, indexes,
    sequences, TOAST) and columns per schema, and the catalog's whole size."""

    schemas: int
    relations_per_schema: float
    attributes_per_schema: float
    catalog_bytes: int

    def line(self) -> str:
        return (
            f"catalog: {self.relations_per_schema:,.0f} relations and {self.attributes_per_schema:,.0f} "
            f"columns per tenant schema ({self.schemas} schemas); pg_catalog "
            f"{self.catalog_bytes / 2**20:,.1f} MiB in all"
        )


def catalog_size(schemas: Sequence[str]) -> CatalogSize:
    """The catalog's entries for ``schemas`` (means per schema; TOAST tables counted with their
    schema) and the total size of pg_catalog's tables and indexes."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = ANY(%s)),
                 rel AS (SELECT c.oid FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns)
                         UNION ALL
                         SELECT t.oid FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
                          WHERE c.relnamespace IN (SELECT oid FROM ns))
            SELECT (SELECT count(*) FROM rel),
                   (SELECT count(*) FROM pg_attribute a WHERE a.attrelid IN (SELECT oid FROM rel)),
                   (SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c
                     WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r')
            """,
            [list(schemas)],
        )
        relations, attributes, catalog_bytes = cursor.fetchone()
    n = max(len(schemas), 1)
    return CatalogSize(
        schemas=len(schemas),
        relations_per_schema=relations / n,
        attributes_per_schema=attributes / n,
        catalog_bytes=int(catalog_bytes or 0),
    )


def summary(progress: Progress, seconds: float) -> dict[str, Any]:
    """The run's figures, as ``migrate_tenants --json`` prints them."""
    return {
        "schemas": progress.total,
        "migrated": progress.migrated,
        "up_to_date": progress.up_to_date,
        "migrations": progress.migrations,
        "seconds": round(seconds, 3),
        "per_minute": round(progress.done / seconds * 60, 1) if seconds > 0 else None,
    }
