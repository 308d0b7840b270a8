"""Test harness: a real PostgreSQL, two tenants built once per session.

pytest-django creates the test database and migrates the public schema; the
session fixture below migrates the template schema and creates two tenants
(``acme``, ``globex``) with a key of every role, committed once. Each test
then runs inside a transaction that is rolled back, so tenants and keys are
shared while the rows a test writes disappear after it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from access.actor import SYSTEM
from access.keys import api_key_create
from core.db import connection
from provisioning.tenants import tenant_create
from tenants.models import Tenant
from tenants.schema_clone import template_ensure, template_forget
from tenants.services import platform_key_create, tenant_domain_for

PLATFORM_HOST = "localhost"


@dataclass(frozen=True)
class TenantKeys:
    slug: str
    host: str
    admin: str
    integration: str
    read: str

    @property
    def schema(self) -> str:
        """The tenant's schema name (its slug, hyphens as underscores)."""
        return self.slug.replace("-", "_")


@dataclass(frozen=True)
class World:
    platform_key: str
    acme: TenantKeys
    globex: TenantKeys


def _make_tenant(slug: str, name: str, tz: str) -> TenantKeys:
    created = tenant_create(slug=slug, name=name, timezone_name=tz)
    with tenant_context(created.tenant):
        integration = api_key_create(name="integration", role="integration", actor=SYSTEM).token
        read = api_key_create(name="read", role="read", actor=SYSTEM).token
    return TenantKeys(
        slug=slug,
        host=tenant_domain_for(slug),
        admin=created.admin_key,
        integration=integration,
        read=read,
    )


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
            acme=_make_tenant("acme", "Acme Inc", "Europe/Berlin"),
            globex=_make_tenant("globex", "Globex Corp", "America/New_York"),
        )
        connection.set_schema_to_public()
        return world


@pytest.fixture(autouse=True)
def _public_schema_after_each_test() -> Iterator[None]:
    # django-tenants issue 1142: a request leaves the connection on its tenant.
    yield
    connection.set_schema_to_public()


class ApiClient:
    """JSON over real HTTP handling (Django's test client), on one host with one token."""

    def __init__(self, host: str, token: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.client = Client()
        self.host = host
        self.token = token
        self.headers = headers or {}

    def _extra(self, headers: dict[str, str] | None) -> dict[str, Any]:
        extra: dict[str, Any] = {"HTTP_HOST": self.host}
        if self.token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        for name, value in {**self.headers, **(headers or {})}.items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        return extra

    def get(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> Any:
        return self.client.get(path, params or {}, **self._extra(headers))

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str] | None, raw: bool) -> Any:
        data = body if raw else json.dumps(body)
        content_type = (
            (headers or {}).pop("Content-Type", "application/json") if headers else "application/json"
        )
        return getattr(self.client, method)(
            path, data=data, content_type=content_type, **self._extra(headers)
        )

    def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bool = False
    ) -> Any:
        return self._send("post", path, {} if body is None else body, headers, raw)

    def put(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bool = False
    ) -> Any:
        return self._send("put", path, {} if body is None else body, headers, raw)

    def patch(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bool = False
    ) -> Any:
        return self._send("patch", path, {} if body is None else body, headers, raw)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.delete(path, **self._extra(headers))


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


def assert_error(
    response: Any, status: int, code: str | None = None, attr: str | None = None
) -> dict[str, Any]:
    """The response is the documented error shape with this status (and code/attr)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["errors"], body
    for item in body["errors"]:
        assert set(item) == {"code", "detail", "attr"}, item
    if code is not None:
        assert code in [e["code"] for e in body["errors"]], body
    if attr is not None:
        assert attr in [e["attr"] for e in body["errors"]], body
    return body


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


@contextmanager
def committed_tenant_made(
    slug: str, django_db_blocker: Any, *, name: str = "Committed", tz: str = "Europe/Berlin"
) -> Iterator[TenantKeys]:
    """A tenant created and committed now, dropped when the block ends."""
    from tenants.services import tenant_delete

    with django_db_blocker.unblock():
        keys = _make_tenant(slug, name, tz)
        connection.set_schema_to_public()
        try:
            yield keys
        finally:
            connection.set_schema_to_public()
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is not None:
                tenant_delete(tenant=tenant)
