"""The per-address limit on requests without a valid key (docs/security.md, "Limits"):
anonymous requests and every 401 or 403 count; past the limit an address gets 429 with
Retry-After for the rest of the minute, whatever it sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from api import anonymous_limit
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import World

LIMIT = 5


@pytest.fixture(autouse=True)
def limited(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # One clock minute for the whole test: a count must not start over halfway through it.
    monkeypatch.setattr(anonymous_limit, "clock", lambda: 1_800_000_030.0)
    caches["limits"].clear()
    anonymous_limit._blocked.clear()
    with override_settings(SSI_ANON_RATE_LIMIT_PER_MINUTE=LIMIT):
        yield
    caches["limits"].clear()
    anonymous_limit._blocked.clear()


def from_address(host: str, token: str | None, address: str, **headers: str) -> ApiClient:
    client = ApiClient(host, token)
    client.client = Client(REMOTE_ADDR=address)
    for name, value in headers.items():
        client.headers[name] = value
    return client


def test_anonymous_requests_past_the_limit_are_a_429_with_retry_after(world: World, db: None) -> None:
    anonymous = from_address(PLATFORM_HOST, None, "198.51.100.1")
    for _ in range(LIMIT):
        assert anonymous.get("/api/v1/schema/").status_code == 200
    answer = anonymous.get("/api/v1/schema/")
    assert_error(answer, 429, "throttled")
    assert 1 <= int(answer["Retry-After"]) <= 60


def test_failed_tokens_count_and_then_block_the_address_even_with_a_good_key(world: World, db: None) -> None:
    bad = from_address(world.acme.host, "ssik_" + "x" * 40, "198.51.100.2")
    for _ in range(LIMIT):
        assert_error(bad.get("/api/v1/reps"), 401)
    good = from_address(world.acme.host, world.acme.admin, "198.51.100.2")
    assert_error(good.get("/api/v1/reps"), 429, "throttled")


def test_403s_count(world: World, db: None) -> None:
    reader = from_address(world.acme.host, world.acme.read, "198.51.100.3")
    for i in range(LIMIT):
        assert_error(reader.post("/api/v1/teams", {"name": f"t{i}"}), 403)
    assert_error(reader.get("/api/v1/reps"), 429, "throttled")


def test_requests_with_a_valid_key_do_not_count(world: World, db: None) -> None:
    admin = from_address(world.acme.host, world.acme.admin, "198.51.100.4")
    for _ in range(LIMIT * 3):
        assert admin.get("/api/v1/reps").status_code == 200


def test_each_address_has_its_own_count(world: World, db: None) -> None:
    for _ in range(LIMIT + 1):
        from_address(PLATFORM_HOST, None, "198.51.100.5").get("/api/v1/schema/")
    assert from_address(PLATFORM_HOST, None, "198.51.100.6").get("/api/v1/schema/").status_code == 200


def test_health_probes_are_not_counted(world: World, db: None) -> None:
    probe = from_address(PLATFORM_HOST, None, "198.51.100.7")
    for _ in range(LIMIT * 2):
        assert probe.get("/healthz").status_code == 200


@override_settings(SSI_NUM_PROXIES=1)
def test_behind_a_proxy_the_address_the_proxy_saw_counts(world: World, db: None) -> None:
    # The client forged the first hop; the proxy appended the address it saw.
    for i in range(LIMIT + 1):
        client = from_address(
            PLATFORM_HOST, None, "10.0.0.1", **{"X-Forwarded-For": f"203.0.113.{i}, 198.51.100.8"}
        )
        answer = client.get("/api/v1/schema/")
    assert_error(answer, 429, "throttled")
    other = from_address(PLATFORM_HOST, None, "10.0.0.1", **{"X-Forwarded-For": "198.51.100.9"})
    assert other.get("/api/v1/schema/").status_code == 200


@override_settings(SSI_ANON_RATE_LIMIT_PER_MINUTE=0)
def test_zero_turns_it_off(world: World, db: None) -> None:
    anonymous = from_address(PLATFORM_HOST, None, "198.51.100.10")
    for _ in range(LIMIT * 2):
        assert anonymous.get("/api/v1/schema/").status_code == 200


def test_signed_in_console_pages_do_not_count_but_a_session_less_cookie_does(world: World, db: None) -> None:
    from django.conf import settings

    from tests.support.console import member_signed_in

    member = Client(REMOTE_ADDR="198.51.100.9")
    member.cookies[settings.SSI_CONSOLE_SESSION_COOKIE] = member_signed_in(world.acme.slug, "viewer")
    for _ in range(LIMIT + 3):
        assert member.get("/console/", HTTP_HOST=world.acme.host).status_code == 200
    forged = Client(REMOTE_ADDR="198.51.100.10")
    forged.cookies[settings.SSI_CONSOLE_SESSION_COOKIE] = "ssis_" + "x" * 40
    for _ in range(LIMIT):
        assert forged.get("/console/", HTTP_HOST=world.acme.host).status_code == 302
    refused = forged.get("/console/", HTTP_HOST=world.acme.host)
    assert refused.status_code == 429 and refused["Content-Type"].startswith("text/html")
    assert "Too many requests" in refused.content.decode() and 1 <= int(refused["Retry-After"]) <= 60
