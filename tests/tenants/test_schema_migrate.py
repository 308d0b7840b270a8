"""``tenants.schema_migrate``, the runner behind ``manage.py migrate_tenants``: it applies what a
schema's ``django_migrations`` lacks, and a run interrupted part-way is finished by the next,
which does only what is left."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.migrations.recorder import MigrationRecorder

from core.db import connection
from tenants.schema_clone import clone_schema, template_schema
from tenants.schema_migrate import (
    SchemaMigrator,
    SchemaRecorder,
    extra_migration_load,
    progress_line,
    schemas_migrate,
)

EXTRA = "bench.tenant_migration"  # adds scoring_rep.bench_tier (default 0) and its index
SCHEMAS = ["t_migrate_a", "t_migrate_b", "t_migrate_c"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def clones(world: object) -> list[str]:
    """Three throwaway clones of the template (dropped with the test's transaction), a rep each.
    (``world`` made the template, outside every test's transaction.)"""
    with transaction.atomic():
        for schema in SCHEMAS:
            clone_schema(source=template_schema(), target=schema)
    with connection.cursor() as cursor:
        for schema in SCHEMAS:
            cursor.execute(
                f"INSERT INTO {schema}.scoring_rep (external_id, name, email, active, created_at, updated_at)"
                " "
                "VALUES ('r1', 'R', '', true, now(), now())"
            )
        # The foreign keys' deferred checks, run now: ALTER TABLE refuses a table that has some pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    connection.set_schema_to_public()
    return SCHEMAS


def tier_column(schema: str) -> tuple[bool, bool, list[int]]:
    """Whether ``bench_tier`` and an index on it exist in ``schema``, and its values."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND table_name = 'scoring_rep' "
            "AND column_name = 'bench_tier'",
            [schema],
        )
        column = cursor.fetchone() is not None
        cursor.execute(
            "SELECT 1 FROM pg_indexes WHERE schemaname = %s AND tablename = 'scoring_rep' "
            "AND indexdef LIKE '%%(bench_tier)%%'",
            [schema],
        )
        index = cursor.fetchone() is not None
        values: list[int] = []
        if column:
            cursor.execute(f"SELECT bench_tier FROM {schema}.scoring_rep")
            values = [row[0] for row in cursor.fetchall()]
        return column, index, values


def test_an_interrupted_run_is_finished_by_the_next_which_does_only_what_is_left(clones: list[str]) -> None:
    seen: list[str] = []

    def interrupt_after_the_first(schema: str, applied: int) -> None:
        seen.append(schema)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        schemas_migrate(clones, extra=[EXTRA], on_schema=interrupt_after_the_first)
    assert seen == ["t_migrate_a"]
    assert tier_column("t_migrate_a") == (True, True, [0])  # the existing row got the default
    assert tier_column("t_migrate_b") == (False, False, [])
    assert tier_column("t_migrate_c") == (False, False, [])

    progress = schemas_migrate(clones, extra=[EXTRA])
    assert (progress.migrated, progress.up_to_date, progress.migrations) == (2, 1, 2)
    assert all(tier_column(s) == (True, True, [0]) for s in clones)

    again = schemas_migrate(clones, extra=[EXTRA])
    assert (again.migrated, again.up_to_date) == (0, 3)


def test_a_migration_that_fails_leaves_its_schema_untouched_and_unrecorded(clones: list[str]) -> None:
    with connection.cursor() as cursor:  # the column there already: ADD COLUMN fails
        cursor.execute("ALTER TABLE t_migrate_b.scoring_rep ADD COLUMN bench_tier integer")
    migrator = SchemaMigrator(extra=[extra_migration_load(EXTRA)])
    assert migrator.migrate("t_migrate_a") == 1
    with pytest.raises(Exception, match="bench_tier"), transaction.atomic():
        migrator.migrate("t_migrate_b")
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t_migrate_b.django_migrations WHERE name = 'bench_rep_tier'")
        assert cursor.fetchone()[0] == 0
    assert migrator.pending(set())[-1] == ("scoring", "bench_rep_tier")


def test_a_failure_between_the_change_and_its_record_leaves_neither(
    clones: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Django records a migration whose index its schema editor deferred after committing the
    change: a process killed in between left the column made and unrecorded (the next run then
    failed on "column already exists"). The runner holds both in one transaction."""

    def killed(self: MigrationRecorder, app: str, name: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(MigrationRecorder, "record_applied", killed)
    with pytest.raises(KeyboardInterrupt):
        schemas_migrate(["t_migrate_a"], extra=[EXTRA])
    assert tier_column("t_migrate_a") == (False, False, [])
    monkeypatch.undo()
    assert schemas_migrate(["t_migrate_a"], extra=[EXTRA]).migrated == 1
    assert tier_column("t_migrate_a") == (True, True, [0])


def test_the_plan_holds_every_tenant_app_migration_and_the_extra_last() -> None:
    migrator = SchemaMigrator(extra=[extra_migration_load(EXTRA)])
    assert migrator.plan[-1] == ("scoring", "bench_rep_tier")
    assert ("scoring", "0001_initial") in migrator.plan
    assert not any(app in ("tenants", "django_tenants") for app, _ in migrator.plan)  # shared apps


def test_progress_line_gives_the_rate_per_minute_and_the_time_left() -> None:
    assert progress_line(100, 400, 10.0) == "100/400 tenants, 600/min, ETA 0:30"
    assert progress_line(0, 400, 0.0) == "0/400 tenants, 0/min, ETA ?"
    assert progress_line(400, 400, 60.0) == "400/400 tenants, 400/min, ETA 0:00"


def test_the_command_refuses_an_extra_migration_for_every_tenant() -> None:
    with pytest.raises(CommandError, match="slug-prefix"):
        call_command("migrate_tenants", "--extra", EXTRA, stdout=StringIO())


def test_the_recorder_finds_django_migrations_in_the_current_schema_only(clones: list[str]) -> None:
    """Its check reads the schema's own ``django_migrations`` by name: present in a clone, absent in
    an empty schema though ``public`` has one (the migrator's ``search_path`` is the schema alone)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA t_migrate_empty")
    connection.set_schema(clones[0], include_public=False)
    assert SchemaRecorder(connection).has_table() is True
    connection.set_schema("t_migrate_empty", include_public=False)
    assert SchemaRecorder(connection).has_table() is False
    assert SchemaRecorder(connection).applied_migrations() == {}
    connection.set_schema_to_public()
    assert SchemaRecorder(connection).has_table() is True
