"""``TENANT_LIMIT_SET_CALLS`` (config/settings/base.py): one ``SET search_path`` per schema
switch, not one per query, and never a query on another tenant's schema.

django-tenants then skips the ``SET`` while it believes the connection is on the schema.
PostgreSQL undoes a ``SET`` on ``ROLLBACK`` and on ``ROLLBACK TO SAVEPOINT``; a wrapper that
kept its belief after a savepoint rollback (django-tenants issue 1262) would read another
tenant's rows without an error. These tests pin that it does not, and that the app refuses
to start on a django-tenants that would. (That the setting is on, and the same through
requests on one connection: tests/tenants/test_isolation_internals.py.)
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction

from core.db import connection
from scoring.models import Rep
from tenants.apps import check_limit_set_calls_is_safe
from tenants.models import Tenant
from tests.support.tenants import World


class Boom(Exception):
    pass


def search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return str(cursor.fetchone()[0])


def test_after_a_savepoint_rollback_queries_run_on_the_schema_the_connection_names(
    world: World, db: None
) -> None:
    acme, globex = Tenant.objects.get(slug="acme"), Tenant.objects.get(slug="globex")
    connection.set_tenant(acme)
    Rep.objects.create(external_id="only-in-acme")  # SET search_path to acme, remembered

    def globex_in_a_savepoint() -> None:
        with transaction.atomic():  # a savepoint (the test runs in a transaction)
            connection.set_tenant(globex)
            assert not Rep.objects.filter(external_id="only-in-acme").exists()  # SET to globex, inside
            raise Boom

    with pytest.raises(Boom):
        globex_in_a_savepoint()
    # PostgreSQL went back to acme's path; the connection still names globex, so must its queries.
    assert connection.schema_name == "globex"
    assert not Rep.objects.filter(external_id="only-in-acme").exists()
    assert search_path().startswith("globex")


def test_after_a_failed_statement_in_a_savepoint_queries_stay_on_the_connections_schema(
    world: World, db: None
) -> None:
    acme, globex = Tenant.objects.get(slug="acme"), Tenant.objects.get(slug="globex")
    connection.set_tenant(acme)
    Rep.objects.create(external_id="twice")
    connection.set_tenant(globex)
    Rep.objects.create(external_id="globex-only")

    def acme_duplicate_in_a_savepoint() -> None:
        with transaction.atomic():
            connection.set_tenant(acme)
            Rep.objects.create(external_id="twice")  # SET to acme inside the savepoint, then a failure

    with pytest.raises(IntegrityError):
        acme_duplicate_in_a_savepoint()
    # PostgreSQL is back on globex's path; the connection names acme: acme's rows.
    assert connection.schema_name == "acme"
    assert list(Rep.objects.values_list("external_id", flat=True)) == ["twice"]
    assert search_path().startswith("acme")


def test_it_refuses_to_start_on_a_django_tenants_that_keeps_its_path_after_a_savepoint_rollback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import django_tenants.postgresql_backend.base as backend

    class Issue1262Wrapper:  # resets on rollback only, as django-tenants before 4.0.1
        def rollback(self) -> None: ...

    check_limit_set_calls_is_safe()  # the installed one is fine
    monkeypatch.setattr(backend, "DatabaseWrapper", Issue1262Wrapper)
    with pytest.raises(ImproperlyConfigured, match="1262"):
        check_limit_set_calls_is_safe()
