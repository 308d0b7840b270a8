"""A refused webhook URL says only that it is refused: nothing about what its host resolves to,
and the lookup is bounded in time (docs/security.md, "SSRF: which webhook URLs we call")."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from django.test import override_settings

from gamification.webhooks import urls_guard
from gamification.webhooks.urls_guard import NOT_ALLOWED
from tests.support.http import ApiClient, assert_error


def refused_detail(acme: ApiClient, url: str) -> str:
    body = assert_error(acme.post("/api/v1/webhooks", {"url": url, "events": ["*"]}), 400, "url_not_allowed")
    detail: str = body["errors"][0]["detail"]
    return detail


@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=False)
@pytest.mark.parametrize(
    "url", ["http://localhost:8000/hooks", "http://127.0.0.1/", "http://does-not-exist.invalid/hooks"]
)
def test_the_answer_does_not_say_what_the_host_resolves_to(acme: ApiClient, url: str) -> None:
    detail = refused_detail(acme, url)
    assert detail == NOT_ALLOWED
    assert "127.0.0.1" not in detail and "resolve" not in detail


@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=False, SSI_WEBHOOK_DNS_TIMEOUT_SECONDS=0.2)
def test_a_lookup_that_hangs_is_refused_in_bounded_time(
    acme: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        time.sleep(1.5)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80))]

    monkeypatch.setattr(urls_guard.socket, "getaddrinfo", slow)
    started = time.monotonic()
    assert refused_detail(acme, "http://slow.example/hooks") == NOT_ALLOWED
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("url", ["http://8.8.8.8:0/", "https://example.com:0/hooks"])
def test_port_zero_is_refused(acme: ApiClient, url: str) -> None:
    assert_error(acme.post("/api/v1/webhooks", {"url": url, "events": ["*"]}), 400, "invalid", "url")
