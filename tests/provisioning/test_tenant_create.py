"""Tenant creation by cloning the template schema, through the service and the CLI."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from access.models import Member
from core.errors import ValidationFailed
from provisioning.tenants import tenant_create
from tenants.schema_clone import template_schema
from tests.support.http import ApiClient
from tests.support.tenants import in_tenant


def structure(schema: str) -> list[tuple[str, ...]]:
    """Tables, columns with types and defaults, constraints, indexes and storage parameters
    (fillfactor), schema name stripped."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 'col', table_name, column_name, data_type, is_nullable, coalesce(is_identity, ''),
                   coalesce(column_default, '')
              FROM information_schema.columns WHERE table_schema = %(s)s
            UNION ALL
            SELECT 'con', cl.relname, con.conname, con.contype::text,
                   replace(pg_get_constraintdef(con.oid), %(s)s || '.', ''), '', ''
              FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
             WHERE con.connamespace = %(s)s::regnamespace
            UNION ALL
            SELECT 'idx', tablename, indexname, replace(indexdef, %(s)s || '.', ''), '', '', ''
              FROM pg_indexes WHERE schemaname = %(s)s
            UNION ALL
            SELECT 'opt', c.relname, coalesce(array_to_string(c.reloptions, ','), ''), '', '', '', ''
              FROM pg_class c WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'r'
            ORDER BY 1, 2, 3
            """,
            {"s": schema},
        )
        return [tuple(str(v) for v in row) for row in cursor.fetchall()]


def test_a_new_schema_has_exactly_the_template_structure(world: object, db: None) -> None:
    tenant_create(slug="clone-check", name="Clone check")
    cloned = structure("clone_check")
    assert cloned == structure(template_schema())
    assert any(row[0] == "con" and row[3] == "f" for row in cloned), "foreign keys were cloned"
    assert ("opt", "scoring_rep", "fillfactor=80", "", "", "", "") in cloned, "storage parameters were cloned"


def test_foreign_keys_of_a_clone_point_inside_the_clone(world: object, db: None) -> None:
    tenant_create(slug="fk-check", name="FK check")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT fn.nspname FROM pg_constraint con
              JOIN pg_class f ON f.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
             WHERE con.contype = 'f' AND con.connamespace = 'fk_check'::regnamespace
            """
        )
        assert [row[0] for row in cursor.fetchall()] == ["fk_check"]


def test_the_template_holds_no_rows_but_migration_records(world: object, db: None) -> None:
    # Cloning copies structure only: seed data must come from services, not migrations.
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [template_schema()])
        tables = [row[0] for row in cursor.fetchall() if row[0] != "django_migrations"]
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{template_schema()}"."{table}"')
            assert cursor.fetchone()[0] == 0, table


def test_a_cloned_schema_is_fully_migrated(world: object, db: None) -> None:
    tenant_create(slug="mig-check", name="Migration check")
    out = StringIO()
    call_command("migrate_schemas", schema_name="mig_check", tenant=True, plan=True, stdout=out)
    assert "No planned migration operations" in out.getvalue()


def test_identity_sequences_are_independent_of_the_template(world: object, db: None) -> None:
    tenant_create(slug="seq-check", name="Sequence check")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('seq_check.scoring_team', 'id')")
        assert cursor.fetchone()[0].startswith("seq_check.")


def test_invalid_input_creates_nothing(world: object, db: None) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        tenant_create(slug="fine-slug", name="x", timezone_name="Not/AZone")
    assert excinfo.value.attr == "timezone"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'fine_slug'")
        assert cursor.fetchone() is None


def test_create_tenant_account_prints_json_with_admin_key(world: object, db: None) -> None:
    out = StringIO()
    call_command(
        "create_tenant_account", slug="cli-co", name="CLI Co", timezone="Europe/Paris", json=True, stdout=out
    )
    body = json.loads(out.getvalue())
    assert body["slug"] == "cli-co"
    assert body["timezone"] == "Europe/Paris"
    assert body["domains"] == ["cli-co.localhost"]
    assert body["admin_key"].startswith("ssik_")


def test_create_tenant_account_reports_bad_input(world: object, db: None) -> None:
    with pytest.raises(CommandError, match="timezone"):
        call_command("create_tenant_account", slug="cli-bad", name="x", timezone="Bad/Zone", json=True)


def test_create_platform_key_prints_json(world: object, db: None) -> None:
    out = StringIO()
    call_command("create_platform_key", json=True, stdout=out)
    body = json.loads(out.getvalue())
    assert body["key"].startswith("ssip_")
    assert body["key"].startswith(body["prefix"])


def test_create_tenant_account_invites_a_first_admin_member(world: object, db: None) -> None:
    out = StringIO()
    call_command(
        "create_tenant_account",
        slug="cli-adm",
        name="CLI Adm",
        admin_email="boss@example.com",
        json=True,
        stdout=out,
    )
    body = json.loads(out.getvalue())
    url = body["admin_invite_url"]
    assert url.startswith("http://cli-adm.localhost:8000/console/invite/ssii_")
    assert len(mail.outbox) == 1 and url in str(mail.outbox[0].body)
    browser = Client()
    path = url.split(":8000", 1)[1]
    page = browser.get(path, HTTP_HOST="cli-adm.localhost")
    assert page.status_code == 200 and b"Set password" in page.content
    with in_tenant("cli-adm"):
        member = Member.objects.get()
        assert (member.email, member.role, member.status) == ("boss@example.com", "admin", "invited")


def test_platform_api_answers_the_first_admins_invitation(platform: ApiClient) -> None:
    made = platform.post(
        "/api/v1/platform/tenants", {"slug": "api-adm", "name": "Api Adm", "admin_email": "b@x.io"}
    )
    assert made.status_code == 201, made.content
    assert made.json()["admin_invite_url"].startswith("http://api-adm.localhost/console/invite/ssii_")
    plain = platform.post("/api/v1/platform/tenants", {"slug": "api-none", "name": "Api None"})
    assert plain.json()["admin_invite_url"] is None
    bad = platform.post("/api/v1/platform/tenants", {"slug": "api-bad", "name": "Bad", "admin_email": "nope"})
    assert bad.status_code == 400
