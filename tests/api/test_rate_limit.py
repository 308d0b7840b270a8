"""Per-key rate limits: 429 in the error shape with Retry-After, counted per key and tenant."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings

from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    cache.clear()


@override_settings(SSI_RATE_LIMIT_PER_MINUTE=3)
def test_a_key_over_its_limit_gets_429_with_retry_after(acme: ApiClient) -> None:
    for _ in range(3):
        assert acme.get("/api/v1/teams").status_code == 200
    response = acme.get("/api/v1/teams")
    assert_error(response, 429, code="throttled")
    assert 1 <= int(response["Retry-After"]) <= 60


@override_settings(SSI_RATE_LIMIT_PER_MINUTE=2)
def test_limits_are_per_key_and_per_tenant(world: World, acme: ApiClient, globex: ApiClient) -> None:
    # acme's and globex's admin keys may share a database id; their counters must not be shared.
    for _ in range(2):
        assert acme.get("/api/v1/teams").status_code == 200
    assert acme.get("/api/v1/teams").status_code == 429
    assert globex.get("/api/v1/teams").status_code == 200
    assert ApiClient(world.acme.host, world.acme.read).get("/api/v1/teams").status_code == 200


@override_settings(SSI_RATE_LIMIT_PER_MINUTE=0)
def test_zero_turns_the_limit_off(acme: ApiClient) -> None:
    for _ in range(5):
        assert acme.get("/api/v1/teams").status_code == 200
