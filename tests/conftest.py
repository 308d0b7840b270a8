"""Test harness: a real PostgreSQL, two tenants built once per session.

pytest-django creates the test database and migrates the public schema; the
session fixture below migrates the template schema and creates two tenants
(``acme``, ``globex``) with a key of every role, committed once. Each test
then runs inside a transaction that is rolled back, so tenants and keys are
shared while the rows a test writes disappear after it.

The fixtures are here; the plain helpers they use (``ApiClient``, ``TenantKeys``,
``make_tenant``...) are in ``tests/support/`` (``http.py``, ``tenants.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from core.db import connection
from tenants.models import Tenant
from tenants.schema_clone import template_ensure, template_forget
from tenants.services import platform_key_create
from tests.support.http import PLATFORM_HOST, ApiClient
from tests.support.schema_objects import Objects, make_objects
from tests.support.tenants import TenantKeys, World, committed_tenant_made, make_tenant


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_keepdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """Always set up the default database.

    pytest-django sets it up only when a collected test asks for ``db``; tests
    that need committed data (``committed_tenant``) deliberately do not, and
    must still find a migrated test database when run on their own.
    """
    from django.test.utils import setup_databases, teardown_databases

    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=verbosity,
            interactive=False,
            keepdb=django_db_keepdb,
            aliases={"default"},  # type: ignore[arg-type]
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=verbosity)


@pytest.fixture(scope="session")
def world(django_db_setup: None, django_db_blocker: Any) -> World:
    with django_db_blocker.unblock():
        template_forget()
        template_ensure()
        world = World(
            platform_key=platform_key_create(name="tests").token,
            acme=make_tenant("acme", "Acme Inc", "Europe/Berlin"),
            globex=make_tenant("globex", "Globex Corp", "America/New_York"),
        )
        connection.set_schema_to_public()
        return world


@pytest.fixture(autouse=True)
def _public_schema_after_each_test() -> Iterator[None]:
    # django-tenants issue 1142: a request leaves the connection on its tenant.
    yield
    connection.set_schema_to_public()


@pytest.fixture
def platform(world: World, db: None) -> ApiClient:
    return ApiClient(PLATFORM_HOST, world.platform_key)


@pytest.fixture
def acme(world: World, db: None) -> ApiClient:
    """acme's admin key on acme's host."""
    return ApiClient(world.acme.host, world.acme.admin)


@pytest.fixture
def globex(world: World, db: None) -> ApiClient:
    """globex's admin key on globex's host."""
    return ApiClient(world.globex.host, world.globex.admin)


@pytest.fixture
def acme_tenant(world: World, db: None) -> Tenant:
    return Tenant.objects.get(slug="acme")


@pytest.fixture
def acme_objects(world: World, db: None) -> Objects:
    """One object of every kind in acme (``tests.support.schema_objects``)."""
    return make_objects(world.acme)


@pytest.fixture
def scoring_config(acme: ApiClient, acme_objects: Objects) -> dict[str, Any]:
    """acme's scoring config as a PUT sends it back (without its version and date)."""
    current: dict[str, Any] = acme.get("/api/v1/scoring-config").json()
    return {k: v for k, v in current.items() if k not in ("version", "created_at")}


@pytest.fixture
def committed_tenant(
    world: World, django_db_blocker: Any, request: pytest.FixtureRequest
) -> Iterator[TenantKeys]:
    """A fresh tenant whose writes really commit (for threads, subprocesses and workers).

    Tests using it run in autocommit, outside the per-test transaction; the
    tenant and its schema are dropped afterwards.
    """
    # A parametrized test's name has brackets: anything but letters and digits becomes one hyphen.
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())
    with committed_tenant_made(
        "c-" + name[:30].strip("-") + f"-{id(request) % 10000}", django_db_blocker
    ) as keys:
        yield keys
