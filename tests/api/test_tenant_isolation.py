"""One tenant's keys are worthless on another tenant, on its host or through ``X-Tenant``.

Every tenant endpoint is in ``ENDPOINTS``; a new endpoint belongs in that table.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import World, in_tenant

# (method, path, body): every endpoint of a tenant host.
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("post", "/api/v1/rep-tokens", {"rep": "g-1"}),
    ("get", "/api/v1/leaderboards/xp", None),
    ("get", "/api/v1/badges", None),
    (
        "post",
        "/api/v1/badges",
        {"slug": "x", "name": "x", "criteria": {"metric": "xp", "op": ">", "value": 1}},
    ),
    ("get", "/api/v1/awards", None),
    ("get", "/api/v1/goals", None),
    ("get", "/api/v1/webhooks", None),
    ("post", "/api/v1/webhooks", {"url": "https://example.com/hook", "events": ["*"]}),
    ("get", "/api/v1/api-keys", None),
    ("post", "/api/v1/api-keys", {"name": "backdoor", "role": "admin"}),
    ("get", "/api/v1/api-keys/{key}", None),
    ("delete", "/api/v1/api-keys/{key}", None),
    ("get", "/api/v1/teams", None),
    ("post", "/api/v1/teams", {"name": "Intruders"}),
    ("get", "/api/v1/teams/{team}", None),
    ("put", "/api/v1/teams/{team}", {"name": "Renamed"}),
    ("patch", "/api/v1/teams/{team}", {"name": "Renamed"}),
    ("delete", "/api/v1/teams/{team}", None),
    ("get", "/api/v1/reps", None),
    ("post", "/api/v1/reps", {"external_id": "intruder"}),
    ("get", "/api/v1/reps/{rep}", None),
    ("put", "/api/v1/reps/{rep}", {"name": "Renamed"}),
    ("patch", "/api/v1/reps/{rep}", {"name": "Renamed"}),
    ("delete", "/api/v1/reps/{rep}", None),
]
ENDPOINT_IDS = [f"{method.upper()} {path}" for method, path, _ in ENDPOINTS]


def call(client: ApiClient, method: str, path: str, body: Any) -> Any:
    if method in ("get", "delete"):
        return getattr(client, method)(path)
    return getattr(client, method)(path, body)


def snapshot(client: ApiClient) -> dict[str, Any]:
    """What a tenant's admin sees of its data (``last_used_at`` moves with every call: left out)."""
    keys = client.get("/api/v1/api-keys", {"include_revoked": "true"}).json()["results"]
    return {
        "keys": [{k: v for k, v in key.items() if k != "last_used_at"} for key in keys],
        "teams": client.get("/api/v1/teams").json(),
        "reps": client.get("/api/v1/reps").json(),
    }


@pytest.fixture
def globex_objects(world: World, globex: ApiClient) -> dict[str, Any]:
    """A team, a rep and a non-admin key in globex, the targets of the attempts."""
    with in_tenant("globex"):
        team = TeamFactory.create(name="Globex team")
        RepFactory.create(external_id="g-1", team=team)
    key = next(k for k in globex.get("/api/v1/api-keys").json()["results"] if k["role"] == "read")
    return {"team": team.pk, "rep": "g-1", "key": key["id"]}


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("role", ["admin", "integration", "read"])
def test_it_denies_cross_tenant_access_to_every_endpoint_on_the_other_host(
    world: World,
    globex: ApiClient,
    globex_objects: dict[str, Any],
    role: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    before = snapshot(globex)
    intruder = ApiClient(world.globex.host, getattr(world.acme, role))
    response = call(intruder, method, path.format(**globex_objects), body)
    assert_error(response, 401, code="invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot(globex) == before


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_it_denies_cross_tenant_access_to_every_endpoint_through_x_tenant(
    world: World, globex: ApiClient, globex_objects: dict[str, Any], method: str, path: str, body: Any
) -> None:
    before = snapshot(globex)
    intruder = ApiClient(PLATFORM_HOST, world.acme.admin, headers={"X-Tenant": "globex"})
    response = call(intruder, method, path.format(**globex_objects), body)
    assert_error(response, 401, code="invalid_token")
    assert snapshot(globex) == before


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_it_denies_the_platform_key_on_every_tenant_endpoint(
    world: World, globex: ApiClient, globex_objects: dict[str, Any], method: str, path: str, body: Any
) -> None:
    before = snapshot(globex)
    response = call(
        ApiClient(world.globex.host, world.platform_key), method, path.format(**globex_objects), body
    )
    assert_error(response, 401, code="invalid_token")
    assert snapshot(globex) == before


def test_it_denies_cross_tenant_access_to_reps_by_external_id(acme: ApiClient, globex: ApiClient) -> None:
    created = acme.post("/api/v1/reps", {"external_id": "shared-id", "name": "Acme's rep"})
    assert created.status_code == 201

    assert_error(globex.get("/api/v1/reps/shared-id"), 404, code="not_found")
    assert_error(globex.patch("/api/v1/reps/shared-id", {"name": "stolen"}), 404, code="not_found")
    assert_error(globex.delete("/api/v1/reps/shared-id"), 404, code="not_found")
    assert globex.get("/api/v1/reps").json()["count"] == 0
    assert globex.get("/api/v1/reps", {"search": "shared"}).json()["count"] == 0

    # globex has its own namespace of external ids.
    own = globex.post("/api/v1/reps", {"external_id": "shared-id", "name": "Globex's rep"})
    assert own.status_code == 201, own.content
    assert acme.get("/api/v1/reps/shared-id").json()["name"] == "Acme's rep"
    assert globex.get("/api/v1/reps/shared-id").json()["name"] == "Globex's rep"


def test_it_denies_cross_tenant_access_to_teams_by_id(acme: ApiClient, globex: ApiClient) -> None:
    team = acme.post("/api/v1/teams", {"name": "Acme team"}).json()
    assert_error(globex.get(f"/api/v1/teams/{team['id']}"), 404, code="not_found")
    assert_error(globex.delete(f"/api/v1/teams/{team['id']}"), 404, code="not_found")
    assert globex.get("/api/v1/teams").json()["count"] == 0
    # Nor can a globex rep join acme's team.
    assert_error(globex.post("/api/v1/reps", {"external_id": "g-2", "team": team["id"]}), 400, attr="team")
    assert acme.get(f"/api/v1/teams/{team['id']}").status_code == 200


def test_it_denies_cross_tenant_access_to_api_keys(acme: ApiClient, globex: ApiClient, world: World) -> None:
    created = acme.post("/api/v1/api-keys", {"name": "acme only", "role": "read"}).json()
    prefixes = [
        k["prefix"] for k in globex.get("/api/v1/api-keys", {"include_revoked": "true"}).json()["results"]
    ]
    assert created["prefix"] not in prefixes
    assert_error(ApiClient(world.globex.host, created["key"]).get("/api/v1/reps"), 401, code="invalid_token")


# --- X-Tenant on the platform host ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/reps", "/api/v1/reps/crm-1", "/api/v1/teams", "/api/v1/api-keys"])
@pytest.mark.parametrize("platform_host", [PLATFORM_HOST, "127.0.0.1"])
def test_x_tenant_on_the_platform_host_routes_to_the_named_tenant(
    world: World, acme: ApiClient, path: str, platform_host: str
) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="crm-1", team=TeamFactory.create())
    direct = acme.get(path)
    routed = ApiClient(platform_host, world.acme.admin, headers={"X-Tenant": "acme"}).get(path)
    assert direct.status_code == 200
    assert routed.status_code == 200
    assert routed.json() == direct.json()


def test_x_tenant_writes_land_in_the_named_tenant(world: World, acme: ApiClient, globex: ApiClient) -> None:
    routed = ApiClient(PLATFORM_HOST, world.acme.integration, headers={"X-Tenant": "acme"})
    response = routed.post("/api/v1/reps", {"external_id": "via-header"})
    assert response.status_code == 201, response.content
    assert acme.get("/api/v1/reps/via-header").status_code == 200
    assert_error(globex.get("/api/v1/reps/via-header"), 404)


def test_x_tenant_errors_are_the_same_as_on_the_tenant_host(world: World, acme: ApiClient) -> None:
    routed = ApiClient(PLATFORM_HOST, world.acme.read, headers={"X-Tenant": "acme"})
    assert_error(routed.get("/api/v1/reps/nobody"), 404, code="not_found")
    assert_error(routed.post("/api/v1/teams", {"name": "x"}), 403, code="permission_denied")
    assert_error(ApiClient(PLATFORM_HOST, headers={"X-Tenant": "acme"}).get("/api/v1/reps"), 401)


@pytest.mark.parametrize("slug", ["nope", "ACME!", "public", "tenant_template"])
def test_unknown_x_tenant_is_a_json_404(world: World, db: None, slug: str) -> None:
    response = ApiClient(PLATFORM_HOST, world.acme.admin, headers={"X-Tenant": slug}).get("/api/v1/reps")
    assert_error(response, 404, code="tenant_not_found", attr="X-Tenant")


def test_unknown_x_tenant_is_a_404_even_without_a_token(world: World, db: None) -> None:
    response = ApiClient(PLATFORM_HOST, headers={"X-Tenant": "nope"}).post(
        "/api/v1/reps", {"external_id": "x"}
    )
    assert_error(response, 404, code="tenant_not_found")


def test_x_tenant_is_ignored_on_a_tenant_host(world: World, acme: ApiClient, globex: ApiClient) -> None:
    with in_tenant("globex"):
        RepFactory.create(external_id="g-only")
    # On acme's host the header cannot switch to globex: acme's key keeps working on acme's data.
    client = ApiClient(world.acme.host, world.acme.admin, headers={"X-Tenant": "globex"})
    response = client.get("/api/v1/reps")
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert_error(client.get("/api/v1/reps/g-only"), 404)
    # And globex's key on acme's host stays a 401 whatever the header says.
    sneaky = ApiClient(world.acme.host, world.globex.admin, headers={"X-Tenant": "globex"})
    assert_error(sneaky.get("/api/v1/reps"), 401, code="invalid_token")


def test_platform_endpoints_are_not_reachable_through_x_tenant(world: World, db: None) -> None:
    response = ApiClient(PLATFORM_HOST, world.platform_key, headers={"X-Tenant": "acme"}).get(
        "/api/v1/platform/tenants"
    )
    assert_error(response, 404)
