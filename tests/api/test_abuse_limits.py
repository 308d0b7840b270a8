"""Abuse limits (issue 6, part 5): per-tenant rate limits, body and page caps, SSRF, no secrets in
logs, constant-time key checks."""

from __future__ import annotations

import hmac
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings

from core.tokens import hash_token
from gamification.models import WebhookDelivery
from gamification.services.outbox import event_emit
from gamification.webhooks import urls_guard
from gamification.webhooks.services import delivery_run, outbox_dispatch
from scoring.models import Activity
from tests.factories.scoring import RepFactory
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import World, in_tenant
from tests.support.webhooks import running_receiver

TENANT = "/api/v1/platform/tenants/acme"


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


# --- Per-tenant rate limits, set by the platform only ---------------------------------------------------


@override_settings(SSI_RATE_LIMIT_PER_MINUTE=1000)
def test_the_platform_sets_a_tenants_rate_limit(
    world: World, platform: ApiClient, acme: ApiClient, globex: ApiClient
) -> None:
    answer = platform.patch(TENANT, {"rate_limit_per_minute": 2})
    assert answer.status_code == 200, answer.content
    assert answer.json()["rate_limit_per_minute"] == 2
    assert platform.get(TENANT).json()["rate_limit_per_minute"] == 2
    for _ in range(2):
        assert acme.get("/api/v1/teams").status_code == 200
    throttled = acme.get("/api/v1/teams")
    assert_error(throttled, 429, code="throttled")
    assert 1 <= int(throttled["Retry-After"]) <= 60
    # Per key: acme's read key has its own two; globex keeps the platform default.
    assert ApiClient(world.acme.host, world.acme.read).get("/api/v1/teams").status_code == 200
    for _ in range(5):
        assert globex.get("/api/v1/teams").status_code == 200


def test_null_goes_back_to_the_platform_default_and_zero_means_no_limit(
    platform: ApiClient, acme: ApiClient
) -> None:
    assert platform.patch(TENANT, {"rate_limit_per_minute": 0}).status_code == 200
    with override_settings(SSI_RATE_LIMIT_PER_MINUTE=1):
        for _ in range(4):
            assert acme.get("/api/v1/teams").status_code == 200
    assert platform.patch(TENANT, {"rate_limit_per_minute": None}).json()["rate_limit_per_minute"] is None
    cache.clear()
    with override_settings(SSI_RATE_LIMIT_PER_MINUTE=1):
        assert acme.get("/api/v1/teams").status_code == 200
        assert acme.get("/api/v1/teams").status_code == 429


@pytest.mark.parametrize("value", [-1, 1_000_001, "fast", 1.5, True, [5]])
def test_a_bad_rate_limit_is_a_400_and_changes_nothing(platform: ApiClient, value: Any) -> None:
    assert_error(platform.patch(TENANT, {"rate_limit_per_minute": value}), 400, attr="rate_limit_per_minute")
    assert platform.get(TENANT).json()["rate_limit_per_minute"] is None


def test_a_tenants_admins_cannot_change_their_own_rate_limit(acme: ApiClient, platform: ApiClient) -> None:
    response = acme.patch("/api/v1/settings", {"rate_limit_per_minute": 1_000_000})
    assert_error(response, 400, code="read_only", attr="rate_limit_per_minute")
    assert platform.get(TENANT).json()["rate_limit_per_minute"] is None
    assert "rate_limit_per_minute" not in acme.get("/api/v1/settings").json()


@override_settings(SSI_RATE_LIMIT_PER_MINUTE=1000)
def test_a_tenants_limit_also_applies_through_x_tenant(world: World, platform: ApiClient) -> None:
    assert platform.patch(TENANT, {"rate_limit_per_minute": 1}).status_code == 200
    via_header = ApiClient(PLATFORM_HOST, world.acme.admin, {"X-Tenant": "acme"})
    assert via_header.get("/api/v1/teams").status_code == 200
    assert via_header.get("/api/v1/teams").status_code == 429


# --- Body, batch and page sizes -------------------------------------------------------------------------


def test_an_ingestion_body_over_the_limit_is_a_413_and_stores_nothing(acme: ApiClient) -> None:
    events = [{"id": f"e-{i}", "rep": "ann", "type": "post_published", "occurred_at": "2026-03-01T10:00:00Z"}
              for i in range(50)]  # fmt: skip
    with override_settings(SSI_MAX_BODY_BYTES=2000):
        assert_error(acme.post("/api/v1/activities", {"events": events}), 413, code="request_too_large")
    with in_tenant("acme"):
        assert not Activity.objects.exists()


def test_the_event_feed_caps_its_page_size_at_1000(acme: ApiClient) -> None:
    for batch in range(2):
        events = [
            {
                "id": f"e-{batch}-{i}",
                "rep": "ann",
                "type": "post_published",
                "occurred_at": "2026-03-01T10:00:00Z",
            }
            for i in range(600)
        ]
        assert acme.post("/api/v1/activities", {"events": events}).json()["accepted"] == 600
    body = acme.get("/api/v1/activities", {"page_size": 100000}).json()
    assert len(body["results"]) == 1000 and body["next"]


# --- SSRF: names that resolve to private addresses -----------------------------------------------------


def fake_dns(monkeypatch: pytest.MonkeyPatch, addresses: list[str]) -> None:
    """``evil.example`` resolves to ``addresses`` (a rebinding attacker's DNS, without a network)."""
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host != "evil.example":
            return real(host, port, *args, **kwargs)
        out = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            out.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return out

    monkeypatch.setattr(urls_guard.socket, "getaddrinfo", resolve)


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["::1"],
        ["93.184.215.14", "10.0.0.7"],  # one public and one private: refused
        ["2606:4700:4700::1111", "fd12::1"],
        ["169.254.169.254"],
        ["fe80::1%eth0"],
        ["::ffff:127.0.0.1"],
        ["64:ff9b::7f00:1"],  # NAT64 of 127.0.0.1
        ["0.0.0.0"],
    ],
)
@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=False)
def test_a_name_resolving_to_a_private_address_is_refused(
    acme: ApiClient, monkeypatch: pytest.MonkeyPatch, addresses: list[str]
) -> None:
    fake_dns(monkeypatch, addresses)
    answer = acme.post("/api/v1/webhooks", {"url": "https://evil.example/hooks", "events": ["*"]})
    assert_error(answer, 400, code="url_not_allowed", attr="url")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1/",  # short forms the resolver reads as 127.0.0.1
        "http://2130706433/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://[0:0:0:0:0:0:0:1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/",
    ],
)
@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=False)
def test_other_spellings_of_loopback_are_refused(acme: ApiClient, url: str) -> None:
    assert_error(acme.post("/api/v1/webhooks", {"url": url, "events": ["*"]}), 400, code="url_not_allowed")


@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=False)
def test_a_name_resolving_to_public_addresses_only_is_allowed(
    acme: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, ["93.184.215.14", "2606:4700:4700::1111"])
    answer = acme.post("/api/v1/webhooks", {"url": "https://evil.example/hooks", "events": ["*"]})
    assert answer.status_code == 201, answer.content


@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=True)
def test_the_operator_may_allow_private_addresses(acme: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, ["127.0.0.1"])
    assert acme.post("/api/v1/webhooks", {"url": "https://evil.example/", "events": ["*"]}).status_code == 201
    answer = acme.post("/api/v1/webhooks", {"url": "file:///etc/passwd", "events": ["*"]})
    assert_error(answer, 400, code="url_not_allowed")


# --- Secrets never logged -------------------------------------------------------------------------------


class Capture(logging.Handler):
    """Every record, formatted with its traceback, and every attribute it carries."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record) + " " + repr(vars(record)))


@pytest.fixture
def captured() -> Iterator[Capture]:
    """All log output, with the root at DEBUG (as ``LOG_LEVEL=DEBUG`` sets it) and SQL cursors in
    debug mode (as ``DJANGO_DEBUG=true`` would make them)."""
    handler = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    forced = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        yield handler
    finally:
        connection.force_debug_cursor = forced
        root.removeHandler(handler)
        root.setLevel(level)


def test_no_token_or_secret_ever_reaches_the_logs(
    world: World, acme: ApiClient, platform: ApiClient, captured: Capture
) -> None:
    secrets: list[str] = [world.acme.admin, world.globex.admin, world.platform_key]

    # Key creation and use; then every kind of authentication failure.
    key = acme.post("/api/v1/api-keys", {"name": "ci", "role": "admin"}).json()["key"]
    secrets += [key, hash_token(key)]
    assert ApiClient(world.acme.host, key).get("/api/v1/teams").status_code == 200
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    secrets.append(wrong)
    for token in (wrong, world.globex.admin, world.platform_key, "ssik_" + "x" * 43):
        assert ApiClient(world.acme.host, token).get("/api/v1/teams").status_code == 401
    assert ApiClient(PLATFORM_HOST, world.acme.admin).get("/api/v1/platform/tenants").status_code == 401
    key_id = acme.get("/api/v1/api-keys").json()["results"][-1]["id"]
    assert acme.delete(f"/api/v1/api-keys/{key_id}").status_code == 204
    assert ApiClient(world.acme.host, key).get("/api/v1/teams").status_code == 401

    # Rep tokens.
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", name="Ann")
    rep_token = acme.post("/api/v1/rep-tokens", {"rep": "ann"}).json()["token"]
    secrets.append(rep_token)
    assert ApiClient(world.acme.host, rep_token).get("/api/v1/reps/ann").status_code == 200
    assert ApiClient(world.acme.host, rep_token).get("/api/v1/teams").status_code == 403

    # Webhooks: creation, a delivery that succeeds, one that fails, one that cannot connect.
    with running_receiver() as receiver:
        hook = acme.post("/api/v1/webhooks", {"url": receiver.url(), "events": ["*"]}).json()
        secrets.append(hook["secret"])
        with in_tenant("acme"):
            event_emit(type="level.up", data={"rep": "ann", "level": 2, "xp": 150})
            outbox_dispatch()
            delivery = str(WebhookDelivery.objects.get().pk)
            assert delivery_run(delivery_id=delivery).ok  # type: ignore[union-attr]
            receiver.status = 500
            event_emit(type="level.up", data={"rep": "ann", "level": 3, "xp": 350})
            outbox_dispatch()
            failing = str(WebhookDelivery.objects.exclude(pk=delivery).get().pk)
            assert not delivery_run(delivery_id=failing).ok  # type: ignore[union-attr]
        assert receiver.requests[0].headers["X-SSI-Signature"]

    # A tenant created through the platform (its first admin key is in the answer).
    created = platform.post("/api/v1/platform/tenants", {"slug": "leaky", "name": "Leaky"})
    assert created.status_code == 201, created.content
    secrets.append(created.json()["admin_key"])

    output = "\n".join(captured.texts)
    assert "Unauthorized" in output  # the capture works: Django logs every 401
    assert "tenant created slug=leaky" in output  # and the service's own records
    for secret in secrets:
        assert secret not in output, f"a secret ({secret[:8]}...) was logged"


def test_sql_is_not_logged_even_at_log_level_debug() -> None:
    # The SQL logger carries statement parameters (webhook secrets, key hashes): the settings pin it
    # at WARNING whatever LOG_LEVEL says.
    from django.conf import settings

    loggers: Any = settings.LOGGING["loggers"]
    assert loggers["django.db.backends"]["level"] == "WARNING"
    assert logging.getLogger("django.db.backends").getEffectiveLevel() >= logging.WARNING


# --- Keys are compared in constant time -----------------------------------------------------------------


def test_every_token_check_uses_a_constant_time_comparison(
    world: World, acme: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", name="Ann")
    rep_token = acme.post("/api/v1/rep-tokens", {"rep": "ann"}).json()["token"]
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    cases = [
        (world.acme.host, world.acme.admin, 200),
        (world.acme.host, world.acme.admin[:-3] + "zzz", 401),
        (world.acme.host, rep_token, 403),
        (PLATFORM_HOST, world.platform_key, 200),
    ]
    for host, token, status in cases:
        before = len(calls)
        path = "/api/v1/platform/tenants" if host == PLATFORM_HOST else "/api/v1/teams"
        assert ApiClient(host, token).get(path).status_code == status
        assert len(calls) == before + 1, (host, status)
        assert calls[-1][0] == hash_token(token)
