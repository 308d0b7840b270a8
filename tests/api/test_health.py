"""``/healthz`` (the process answers) and ``/readyz`` (the database and the broker are reachable)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from celery import Celery
from django.test import Client

from api.v1 import health
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import World

HOSTS = [PLATFORM_HOST, "127.0.0.1", "acme.localhost", "globex.localhost"]
# Port 1 on loopback: nothing listens there, the connection is refused at once.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.mark.parametrize("host", HOSTS)
def test_healthz_answers_ok_on_every_host_without_auth(world: World, db: None, host: str) -> None:
    response = ApiClient(host).get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok"}


def test_healthz_ignores_a_bad_token(world: World, db: None) -> None:
    response = ApiClient("acme.localhost", "ssik_garbage").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_on_an_unknown_host_is_tenant_not_found(world: World, db: None) -> None:
    assert_error(ApiClient("nobody.localhost").get("/healthz"), 404, code="tenant_not_found")


@pytest.mark.parametrize("host", HOSTS)
def test_readyz_answers_ok_when_database_and_broker_are_up(world: World, db: None, host: str) -> None:
    response = ApiClient(host).get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.fixture
def unreachable_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Celery]:
    """A real Celery app whose broker nobody serves (not a mock: kombu really tries to connect)."""
    app = Celery("unreachable", broker=UNREACHABLE_BROKER, set_as_current=False)
    monkeypatch.setattr(health, "celery_app", app)
    yield app
    app.close()


@pytest.mark.parametrize("host", [PLATFORM_HOST, "acme.localhost"])
def test_readyz_is_a_503_when_the_broker_is_unreachable(
    world: World, db: None, unreachable_broker: Celery, host: str
) -> None:
    started = time.monotonic()
    response = ApiClient(host).get("/readyz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "unavailable"}}
    # A probe must answer fast, not hang on retries.
    assert elapsed < 10, elapsed


def test_healthz_stays_ok_when_the_broker_is_unreachable(
    world: World, db: None, unreachable_broker: Celery
) -> None:
    response = ApiClient(PLATFORM_HOST).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head_for_load_balancers(world: World, db: None, path: str) -> None:
    response = Client().head(path, HTTP_HOST="localhost")
    assert response.status_code == 200
