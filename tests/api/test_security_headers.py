"""Security headers on every answer: successes, errors, unknown hosts, documents, static files."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from api.middleware import CSP_API, CSP_DOCS
from tests.support.http import PLATFORM_HOST, ApiClient
from tests.support.tenants import World

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def assert_headers(response: Any, *, csp: str = CSP_API, no_store: bool = True) -> None:
    for name, value in COMMON.items():
        assert response[name] == value, (name, response.status_code, response.get(name))
    assert response["Content-Security-Policy"] == csp, response.get("Content-Security-Policy")
    if no_store:
        assert response["Cache-Control"] == "no-store", (response.status_code, response.get("Cache-Control"))
    assert response["X-Request-ID"]


def client(world: World, role: str | None = "admin", host: str | None = None, **headers: str) -> ApiClient:
    token = getattr(world.acme, role) if role else None
    return ApiClient(host or world.acme.host, token, headers)


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        ("admin", "get", "/api/v1/teams", None, 200),
        ("admin", "post", "/api/v1/teams", {"name": "North"}, 201),
        ("admin", "get", "/api/v1/audit-log", None, 200),
        ("admin", "post", "/api/v1/teams", {"colour": "red"}, 400),
        (None, "get", "/api/v1/teams", None, 401),
        ("read", "post", "/api/v1/teams", {"name": "North"}, 403),
        ("admin", "get", "/api/v1/reps/nobody", None, 404),
        ("admin", "get", "/api/v1/no-such-endpoint", None, 404),
        ("admin", "delete", "/api/v1/settings", None, 405),
        (None, "get", "/healthz", None, 200),
        (None, "get", "/readyz", None, 200),
    ],
)
def test_tenant_answers_carry_the_headers_whatever_their_status(
    world: World, db: None, role: str | None, method: str, path: str, body: Any, status: int
) -> None:
    api = client(world, role)
    response = api.get(path) if method == "get" else getattr(api, method)(path, *([body] if body else []))
    assert response.status_code == status, response.content
    assert_headers(response)


def test_an_unknown_host_gets_the_headers_on_its_404(world: World, db: None) -> None:
    response = ApiClient("nobody.localhost", world.acme.admin).get("/api/v1/teams")
    assert response.status_code == 404
    assert_headers(response)


def test_an_unknown_x_tenant_gets_the_headers_on_its_404(world: World, db: None) -> None:
    response = ApiClient(PLATFORM_HOST, world.platform_key, {"X-Tenant": "nobody"}).get("/api/v1/teams")
    assert response.status_code == 404
    assert_headers(response)


def test_platform_answers_carry_the_headers(world: World, platform: ApiClient) -> None:
    assert_headers(platform.get("/api/v1/platform/tenants"))
    assert_headers(ApiClient(PLATFORM_HOST).get("/api/v1/platform/tenants"))  # 401


def test_a_body_too_large_and_a_throttled_answer_carry_the_headers(world: World, acme: ApiClient) -> None:
    with override_settings(SSI_MAX_BODY_BYTES=100):
        response = acme.post("/api/v1/teams", {"name": "x" * 500})
    assert response.status_code == 413
    assert_headers(response)
    cache.clear()
    with override_settings(SSI_RATE_LIMIT_PER_MINUTE=1):
        acme.get("/api/v1/teams")
        response = acme.get("/api/v1/teams")
    cache.clear()
    assert response.status_code == 429
    assert_headers(response)


def test_an_unexpected_server_error_carries_the_headers(
    world: World, acme: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.v1.teams import TeamViewSet

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(TeamViewSet, "list", boom)
    response = acme.get("/api/v1/teams")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert_headers(response)


def test_the_swagger_ui_page_has_its_own_csp_and_no_inline_script(world: World, db: None) -> None:
    page = ApiClient(PLATFORM_HOST).get("/api/v1/docs/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert_headers(page, csp=CSP_DOCS, no_store=False)
    html = page.content.decode()
    # The CSP allows scripts from this host only: every script must have a same-host src.
    assert re.findall(r"<script(?![^>]*\bsrc=\"/)", html) == []
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html):
        assert src.startswith("/"), src  # nothing from another host (no CDN)
    assert "frame-ancestors 'none'" in CSP_DOCS and "'unsafe-inline'" not in CSP_DOCS.split("style-src")[0]


def test_documents_and_static_files_carry_the_headers_and_may_be_cached(world: World, db: None) -> None:
    docs = ApiClient("acme.localhost").get("/api/v1/docs/")
    script = ApiClient(PLATFORM_HOST).get("/api/v1/docs/", {"script": ""})
    schema = ApiClient(PLATFORM_HOST).get("/api/v1/schema/")
    css_path = re.search(r'href="(/static/[^"]+\.css)"', docs.content.decode())
    assert css_path is not None
    css = Client().get(css_path.group(1), HTTP_HOST=PLATFORM_HOST)
    for response in (docs, script, schema, css):
        assert response.status_code == 200
        assert_headers(response, csp=CSP_DOCS if response is docs else CSP_API, no_store=False)
        assert response.get("Cache-Control") != "no-store"


def test_a_document_asked_with_a_token_is_not_stored(world: World, db: None) -> None:
    response = ApiClient(PLATFORM_HOST, world.platform_key).get("/api/v1/schema/")
    assert response["Cache-Control"] == "no-store"


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_hsts_is_sent_on_https_when_configured(world: World, db: None) -> None:
    https = Client().get("/api/v1/teams", HTTP_HOST=world.acme.host, secure=True)
    assert https.status_code == 401
    assert https["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    unknown = Client().get("/api/v1/teams", HTTP_HOST="nobody.localhost", secure=True)
    assert unknown["Strict-Transport-Security"].startswith("max-age=31536000")
    # Over plain HTTP the header means nothing and is not sent (RFC 6797 section 7.2).
    assert "Strict-Transport-Security" not in Client().get("/healthz", HTTP_HOST=world.acme.host)


def test_production_settings_turn_hsts_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    production = importlib.import_module("config.settings.production")
    assert production.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
    assert production.SECURE_HSTS_SECONDS >= 31536000
    assert production.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
