"""The platform API: tenant provisioning on the platform host with a platform key."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import World


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def test_create_tenant_answers_201_with_domain_and_admin_key(platform: ApiClient) -> None:
    response = platform.post(
        "/api/v1/platform/tenants", {"slug": "initech", "name": "Initech", "timezone": "Asia/Tokyo"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "initech"
    assert body["name"] == "Initech"
    assert body["timezone"] == "Asia/Tokyo"
    assert body["domains"] == ["initech.localhost"]
    assert body["admin_key"].startswith("ssik_")
    assert schema_exists("initech")

    # The admin key works on the new tenant's host at once.
    new = ApiClient("initech.localhost", body["admin_key"])
    keys = new.get("/api/v1/api-keys")
    assert keys.status_code == 200
    assert [k["role"] for k in keys.json()["results"]] == ["admin"]


def test_timezone_defaults_to_utc(platform: ApiClient) -> None:
    response = platform.post("/api/v1/platform/tenants", {"slug": "hooli", "name": "Hooli"})
    assert response.status_code == 201
    assert response.json()["timezone"] == "UTC"


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"slug": "Bad Slug", "name": "x"}, "slug", "invalid_slug"),
        ({"slug": "-lead", "name": "x"}, "slug", "invalid_slug"),
        ({"slug": "a", "name": "x"}, "slug", "invalid_slug"),
        ({"slug": "public", "name": "x"}, "slug", "reserved_slug"),
        ({"slug": "ok-slug", "name": "x", "timezone": "Mars/Olympus"}, "timezone", "invalid_timezone"),
        ({"slug": "ok-slug", "name": "x", "timezone": 7}, "timezone", None),
        ({"slug": "ok-slug"}, "name", "required"),
        ({"name": "x"}, "slug", "required"),
        ({"slug": "ok-slug", "name": "x", "colour": "red"}, "colour", "unknown_field"),
    ],
)
def test_invalid_tenant_input_is_a_400_naming_the_field(
    platform: ApiClient, payload: dict[str, object], attr: str, code: str | None
) -> None:
    response = platform.post("/api/v1/platform/tenants", payload)
    assert_error(response, 400, code=code, attr=attr)
    assert not schema_exists("ok_slug")


def test_duplicate_slug_is_a_409(platform: ApiClient) -> None:
    response = platform.post("/api/v1/platform/tenants", {"slug": "acme", "name": "Acme again"})
    assert_error(response, 409, code="slug_taken", attr="slug")


def test_list_get_patch_tenants(platform: ApiClient) -> None:
    listing = platform.get("/api/v1/platform/tenants")
    assert listing.status_code == 200
    slugs = [t["slug"] for t in listing.json()["results"]]
    assert {"acme", "globex"} <= set(slugs)

    one = platform.get("/api/v1/platform/tenants/acme")
    assert one.status_code == 200
    assert one.json()["domains"] == ["acme.localhost"]
    assert "admin_key" not in one.json()

    patched = platform.patch("/api/v1/platform/tenants/acme", {"name": "Acme Corporation", "timezone": "UTC"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["name"] == "Acme Corporation"
    assert patched.json()["timezone"] == "UTC"

    assert_error(
        platform.patch("/api/v1/platform/tenants/acme", {"timezone": "Nowhere"}), 400, attr="timezone"
    )
    assert_error(platform.patch("/api/v1/platform/tenants/acme", {"slug": "other"}), 400, code="immutable")
    assert_error(platform.get("/api/v1/platform/tenants/nope"), 404)


def test_purging_a_tenant_now_drops_its_schema_and_host(platform: ApiClient) -> None:
    created = platform.post("/api/v1/platform/tenants", {"slug": "doomed", "name": "Doomed"}).json()
    assert schema_exists("doomed")
    response = platform.delete("/api/v1/platform/tenants/doomed?purge=now&confirm=doomed")
    assert response.status_code == 204
    assert not schema_exists("doomed")
    assert_error(platform.get("/api/v1/platform/tenants/doomed"), 404)
    gone = ApiClient("doomed.localhost", created["admin_key"]).get("/api/v1/reps")
    assert_error(gone, 404, code="tenant_not_found")


def test_platform_endpoints_refuse_tenant_keys(world: World, db: None) -> None:
    for token in (world.acme.admin, world.acme.read, world.globex.integration):
        response = ApiClient(PLATFORM_HOST, token).get("/api/v1/platform/tenants")
        assert_error(response, 401, code="invalid_token")
        response = ApiClient(PLATFORM_HOST, token).post(
            "/api/v1/platform/tenants", {"slug": "x-y", "name": "x"}
        )
        assert_error(response, 401)


def test_platform_endpoints_require_a_token(world: World, db: None) -> None:
    response = ApiClient(PLATFORM_HOST).get("/api/v1/platform/tenants")
    body = assert_error(response, 401, code="not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body["type"] == "client_error"


def test_platform_endpoints_do_not_exist_on_tenant_hosts(world: World, db: None) -> None:
    response = ApiClient(world.acme.host, world.platform_key).get("/api/v1/platform/tenants")
    assert_error(response, 404)


def test_platform_key_is_refused_on_tenant_hosts(world: World, db: None) -> None:
    assert_error(
        ApiClient(world.acme.host, world.platform_key).get("/api/v1/reps"), 401, code="invalid_token"
    )
