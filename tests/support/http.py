"""The API in-process: ``ApiClient`` (JSON through Django's test client, one host and one token)
and ``assert_error`` (the one error shape, docs/api.md "Errors")."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

# The platform API's host (tenant hosts are ``<slug>.localhost``: ``TenantKeys.host``).
PLATFORM_HOST = "localhost"


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
