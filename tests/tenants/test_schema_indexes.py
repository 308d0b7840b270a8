"""A tenant schema holds no index that another makes useless: every index is a relation in every
tenant's schema (the catalog grows with each, docs/performance.md#many-tenants) and a cost on
every insert. And the models and their migrations agree, so the schema tested is the one shipped."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from core.db import connection
from tenants.schema_clone import template_schema

pytestmark = pytest.mark.django_db

# The template's indexes: table, name, key columns (attribute numbers), whether unique, partial,
# and their definition.
_INDEXES_SQL = """
    SELECT c.relname, ic.relname, string_to_array(i.indkey::text, ' ')::int[], i.indisunique,
           i.indpred IS NOT NULL, pg_get_indexdef(i.indexrelid)
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = %s
"""


def redundant_indexes(rows: list[tuple[str, str, list[int], bool, bool, str]]) -> list[str]:
    """Names of the plain indexes whose key columns lead another whole-table index of their table
    (that one serves every lookup this one would), and of the ``varchar_pattern_ops`` twins
    (for LIKE, which no query of ours runs on an indexed column)."""
    found = []
    for table, name, columns, unique, partial, definition in rows:
        if "pattern_ops" in definition:
            found.append(name)
            continue
        if unique or partial:
            continue
        for other_table, other, other_columns, _, other_partial, _ in rows:
            if (
                other_table == table
                and other != name
                and not other_partial
                and other_columns[: len(columns)] == columns
            ):
                found.append(f"{name} (led by {other})")
                break
    return found


def test_the_rule_finds_a_twin_and_keeps_what_is_needed() -> None:
    rows = [
        ("t", "t_rep", [2], False, False, "CREATE INDEX t_rep ON t (rep_id)"),
        ("t", "t_rep_day", [2, 3], True, False, "CREATE UNIQUE INDEX t_rep_day ON t (rep_id, day)"),
        ("t", "t_day", [3], False, False, "CREATE INDEX t_day ON t (day)"),
        ("t", "t_day_open", [3, 4], False, True, "CREATE INDEX t_day_open ON t (day, x) WHERE open"),
        ("u", "u_rep", [2], False, False, "CREATE INDEX u_rep ON u (rep_id)"),
        ("u", "u_slug_like", [3], False, False, "CREATE INDEX u_slug_like ON u (slug varchar_pattern_ops)"),
    ]
    # t_day is led by nothing whole-table (t_day_open is partial); u_rep is alone on its table.
    assert redundant_indexes(rows) == ["t_rep (led by t_rep_day)", "u_slug_like"]


def test_no_tenant_index_is_redundant(world: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_INDEXES_SQL, [template_schema()])
        rows = cursor.fetchall()
    assert len(rows) > 50  # the template's indexes were read
    assert redundant_indexes(rows) == []


def test_the_models_need_no_new_migration() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
