"""Rep tokens minted through the API, as a client app mints them."""

from __future__ import annotations

from typing import Any

from tests.support.http import ApiClient


def mint(client: ApiClient, rep: str, **extra: Any) -> dict[str, Any]:
    """``POST /api/v1/rep-tokens`` for ``rep`` (``extra``: ``ttl_seconds``...): the 201's body."""
    response = client.post("/api/v1/rep-tokens", {"rep": rep, **extra})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body
