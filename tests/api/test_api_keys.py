"""``/api/v1/api-keys``: a tenant's keys, shown once, revocable, recording ``last_used_at``."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections

from access.models import ApiKey
from api import auth
from core.db import connection
from core.tokens import token_prefix
from tenants.models import Tenant
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World


def create_key(client: ApiClient, name: str = "ci", role: str = "integration") -> dict[str, Any]:
    response = client.post("/api/v1/api-keys", {"name": name, "role": role})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("role", ["admin", "integration", "read"])
def test_create_key_answers_201_with_the_secret_once(acme: ApiClient, world: World, role: str) -> None:
    body = create_key(acme, name="nightly sync", role=role)
    assert set(body) == {"id", "name", "role", "prefix", "key", "created_at"}
    assert body["name"] == "nightly sync"
    assert body["role"] == role
    assert body["key"].startswith("ssik_")
    assert body["key"].startswith(body["prefix"])
    assert body["created_at"]

    # The key works at once, on its tenant's host.
    assert ApiClient(world.acme.host, body["key"]).get("/api/v1/teams").status_code == 200

    # Never shown again: neither in the object nor in the list.
    one = acme.get(f"/api/v1/api-keys/{body['id']}")
    assert one.status_code == 200
    assert "key" not in one.json()
    assert one.json()["prefix"] == body["prefix"]
    listing = acme.get("/api/v1/api-keys").json()
    assert all("key" not in k for k in listing["results"])
    assert body["key"] not in acme.get("/api/v1/api-keys").content.decode()


def test_list_keys_is_paginated_and_shows_active_keys(acme: ApiClient) -> None:
    created = create_key(acme, name="extra")
    response = acme.get("/api/v1/api-keys")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    # The session's admin, integration and read keys, and the new one.
    assert body["count"] == 4
    assert [k["role"] for k in body["results"]] == ["admin", "integration", "read", "integration"]
    assert body["results"][-1]["id"] == created["id"]
    for key in body["results"]:
        assert key["active"] is True
        assert key["revoked_at"] is None
        assert set(key) == {
            "id",
            "name",
            "role",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
            "active",
        }

    page = acme.get("/api/v1/api-keys", {"page_size": 3}).json()
    assert len(page["results"]) == 3
    assert page["next"] is not None


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"role": "admin"}, "name", "required"),
        ({"name": "x"}, "role", "required"),
        ({"name": "x", "role": "owner"}, "role", "invalid_choice"),
        ({"name": "x" * 101, "role": "read"}, "name", "max_length"),
        ({"name": "x", "role": "read", "key": "ssik_mine"}, "key", "unknown_field"),
    ],
)
def test_invalid_key_input_is_a_400_naming_the_field(
    acme: ApiClient, payload: dict[str, Any], attr: str, code: str
) -> None:
    assert_error(acme.post("/api/v1/api-keys", payload), 400, code=code, attr=attr)
    assert acme.get("/api/v1/api-keys").json()["count"] == 3


def test_revoked_key_stops_working_at_once(acme: ApiClient, world: World) -> None:
    created = create_key(acme, role="admin")
    client = ApiClient(world.acme.host, created["key"])
    assert client.get("/api/v1/reps").status_code == 200

    response = acme.delete(f"/api/v1/api-keys/{created['id']}")
    assert response.status_code == 204

    assert_error(client.get("/api/v1/reps"), 401, code="invalid_token")
    assert_error(client.post("/api/v1/teams", {"name": "x"}), 401, code="invalid_token")
    assert acme.get("/api/v1/teams").json()["count"] == 0


def test_a_key_may_revoke_itself_when_another_admin_remains(acme: ApiClient, world: World) -> None:
    created = create_key(acme, role="admin")
    client = ApiClient(world.acme.host, created["key"])
    assert client.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    assert_error(client.get("/api/v1/api-keys"), 401, code="invalid_token")
    assert acme.get("/api/v1/api-keys").status_code == 200


def test_revoked_keys_are_listed_only_with_include_revoked(acme: ApiClient) -> None:
    created = create_key(acme, name="old")
    assert acme.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204

    active_ids = [k["id"] for k in acme.get("/api/v1/api-keys").json()["results"]]
    assert created["id"] not in active_ids

    everything = acme.get("/api/v1/api-keys", {"include_revoked": "true"}).json()["results"]
    revoked = next(k for k in everything if k["id"] == created["id"])
    assert revoked["active"] is False
    assert revoked["revoked_at"] is not None
    assert len(everything) == len(active_ids) + 1

    # A revoked key can still be looked up by id.
    one = acme.get(f"/api/v1/api-keys/{created['id']}")
    assert one.status_code == 200
    assert one.json()["active"] is False


def test_revoking_twice_is_harmless(acme: ApiClient) -> None:
    created = create_key(acme)
    assert acme.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    first = acme.get(f"/api/v1/api-keys/{created['id']}").json()["revoked_at"]
    assert acme.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    assert acme.get(f"/api/v1/api-keys/{created['id']}").json()["revoked_at"] == first


def test_the_last_admin_key_cannot_be_revoked(acme: ApiClient) -> None:
    admins = [k for k in acme.get("/api/v1/api-keys").json()["results"] if k["role"] == "admin"]
    assert len(admins) == 1
    response = acme.delete(f"/api/v1/api-keys/{admins[0]['id']}")
    assert_error(response, 409, code="last_admin_key")
    # Still working, still active.
    one = acme.get(f"/api/v1/api-keys/{admins[0]['id']}")
    assert one.status_code == 200
    assert one.json()["active"] is True


def test_an_admin_key_can_be_revoked_once_another_exists(acme: ApiClient, world: World) -> None:
    original = next(k for k in acme.get("/api/v1/api-keys").json()["results"] if k["role"] == "admin")
    created = create_key(acme, role="admin")
    successor = ApiClient(world.acme.host, created["key"])
    assert successor.delete(f"/api/v1/api-keys/{original['id']}").status_code == 204
    assert_error(acme.get("/api/v1/teams"), 401, code="invalid_token")
    # Now the successor is the last admin.
    assert_error(successor.delete(f"/api/v1/api-keys/{created['id']}"), 409, code="last_admin_key")


def test_non_admin_keys_do_not_count_as_the_last_admin(acme: ApiClient) -> None:
    keys = acme.get("/api/v1/api-keys").json()["results"]
    for key in keys:
        if key["role"] != "admin":
            assert acme.delete(f"/api/v1/api-keys/{key['id']}").status_code == 204
    admin = next(k for k in keys if k["role"] == "admin")
    assert_error(acme.delete(f"/api/v1/api-keys/{admin['id']}"), 409, code="last_admin_key")


def test_last_used_at_is_set_when_a_key_is_used(acme: ApiClient, world: World) -> None:
    created = create_key(acme, role="read")
    before = acme.get(f"/api/v1/api-keys/{created['id']}").json()
    assert before["last_used_at"] is None

    assert ApiClient(world.acme.host, created["key"]).get("/api/v1/reps").status_code == 200

    after = acme.get(f"/api/v1/api-keys/{created['id']}").json()
    assert after["last_used_at"] is not None
    assert after["last_used_at"] >= created["created_at"]


def test_unknown_key_id_is_a_404(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/api-keys/999999"), 404, code="not_found")
    assert_error(acme.delete("/api/v1/api-keys/999999"), 404, code="not_found")


def test_keys_cannot_be_edited(acme: ApiClient) -> None:
    created = create_key(acme, role="read")
    assert_error(acme.patch(f"/api/v1/api-keys/{created['id']}", {"role": "admin"}), 405)
    assert_error(acme.put(f"/api/v1/api-keys/{created['id']}", {"name": "x", "role": "admin"}), 405)
    assert acme.get(f"/api/v1/api-keys/{created['id']}").json()["role"] == "read"


@pytest.mark.django_db
def test_a_keys_last_use_is_one_round_trip_committed_without_waiting_for_its_flush(
    world: World, monkeypatch: pytest.MonkeyPatch, django_db_blocker: Any
) -> None:
    """As a request writes it (autocommit, outside any transaction): the ``set_config`` and the
    UPDATE go in one statement string, so they run as one implicit transaction that commits
    asynchronously, and the connection's ``synchronous_commit`` is back on after it."""
    acme = Tenant.objects.get(slug="acme")
    sent: list[str] = []

    def log(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append(sql)
        return execute(sql, params, many, context)

    connection.set_tenant(acme)  # where ``_find`` reads the key
    try:
        # A second connection, not in this test's transaction (pytest-django lets only the test's in).
        with django_db_blocker.unblock():
            other: Any = connections.create_connection("default")  # django-tenants' wrapper
            try:
                other.set_tenant(acme)
                with other.cursor() as cursor:
                    cursor.execute(
                        "UPDATE api_apikey SET last_used_at = NULL WHERE prefix = %s",
                        [token_prefix(world.acme.read)],
                    )
                monkeypatch.setattr(auth, "connection", other)
                with other.execute_wrapper(log):
                    key = auth.BearerAuthentication()._find(ApiKey, world.acme.read)
                with other.cursor() as cursor:
                    cursor.execute("SHOW synchronous_commit")
                    assert cursor.fetchone()[0] == "on"
            finally:
                other.close()
        assert len(sent) == 1
        assert sent[0].startswith("SELECT set_config('synchronous_commit', 'off', true); UPDATE")
        # Committed: this test's own connection sees it.
        assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    finally:
        connection.set_schema_to_public()
