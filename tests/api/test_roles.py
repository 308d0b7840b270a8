"""Who may do what on a tenant host: roles of tenant API keys, and requests without a valid token."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant


@pytest.fixture
def objects(world: World, db: None) -> dict[str, Any]:
    """A team and a rep in acme, to read, change and delete."""
    with in_tenant("acme"):
        team = TeamFactory.create(name="Closers")
        RepFactory.create(external_id="crm-1", team=team)
    return {"team": team.pk, "rep": "crm-1"}


def client_for(world: World, role: str) -> ApiClient:
    return ApiClient(world.acme.host, getattr(world.acme, role))


# --- read keys -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/teams", "/api/v1/teams/{team}", "/api/v1/reps", "/api/v1/reps/{rep}"]
)
def test_read_key_can_read_teams_and_reps(world: World, objects: dict[str, Any], path: str) -> None:
    response = client_for(world, "read").get(path.format(**objects))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/teams", {"name": "Hunters"}),
        ("patch", "/api/v1/teams/{team}", {"name": "Hunters"}),
        ("put", "/api/v1/teams/{team}", {"name": "Hunters"}),
        ("delete", "/api/v1/teams/{team}", None),
        ("post", "/api/v1/reps", {"external_id": "crm-2"}),
        ("patch", "/api/v1/reps/{rep}", {"name": "Changed"}),
        ("put", "/api/v1/reps/{rep}", {"name": "Changed"}),
        ("delete", "/api/v1/reps/{rep}", None),
    ],
)
def test_read_key_cannot_write_teams_or_reps(
    world: World, acme: ApiClient, objects: dict[str, Any], method: str, path: str, body: Any
) -> None:
    before = (acme.get("/api/v1/teams").json(), acme.get("/api/v1/reps").json())
    client = client_for(world, "read")
    url = path.format(**objects)
    response = client.delete(url) if method == "delete" else getattr(client, method)(url, body)
    assert_error(response, 403, code="permission_denied")
    assert (acme.get("/api/v1/teams").json(), acme.get("/api/v1/reps").json()) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/api-keys"),
        ("get", "/api/v1/api-keys/{key}"),
        ("post", "/api/v1/api-keys"),
        ("delete", "/api/v1/api-keys/{key}"),
    ],
)
@pytest.mark.parametrize("role", ["read", "integration"])
def test_only_admins_may_touch_api_keys(
    world: World, acme: ApiClient, role: str, method: str, path: str
) -> None:
    before = acme.get("/api/v1/api-keys").json()
    victim = next(k for k in before["results"] if k["role"] == "read")
    client = client_for(world, role)
    url = path.format(key=victim["id"])
    if method == "delete":
        response = client.delete(url)
    elif method == "post":
        response = client.post(url, {"name": "sneaky", "role": "admin"})
    else:
        response = client.get(url)
    assert_error(response, 403, code="permission_denied")
    after = acme.get("/api/v1/api-keys").json()["results"]
    assert [(k["id"], k["role"], k["active"]) for k in after] == [
        (k["id"], k["role"], k["active"]) for k in before["results"]
    ]


# --- integration keys ----------------------------------------------------------------------------------


def test_integration_key_manages_teams_and_reps(world: World, acme: ApiClient) -> None:
    client = client_for(world, "integration")
    team = client.post("/api/v1/teams", {"name": "Hunters"})
    assert team.status_code == 201, team.content
    team_id = team.json()["id"]
    assert client.patch(f"/api/v1/teams/{team_id}", {"description": "d"}).status_code == 200
    assert client.put(f"/api/v1/teams/{team_id}", {"name": "Farmers"}).status_code == 200

    rep = client.post("/api/v1/reps", {"external_id": "crm-9", "team": team_id})
    assert rep.status_code == 201, rep.content
    assert client.patch("/api/v1/reps/crm-9", {"active": False}).status_code == 200
    assert client.put("/api/v1/reps/crm-9", {"name": "Nine"}).status_code == 200
    assert client.get("/api/v1/reps/crm-9").json()["name"] == "Nine"
    assert client.get("/api/v1/teams").json()["count"] == 1

    assert client.delete("/api/v1/reps/crm-9").status_code == 204
    assert client.delete(f"/api/v1/teams/{team_id}").status_code == 204
    assert acme.get("/api/v1/reps").json()["count"] == 0
    assert acme.get("/api/v1/teams").json()["count"] == 0


# --- admin keys ----------------------------------------------------------------------------------------


def test_admin_key_can_do_everything(acme: ApiClient) -> None:
    team = acme.post("/api/v1/teams", {"name": "Hunters"})
    assert team.status_code == 201
    team_id = team.json()["id"]
    assert acme.patch(f"/api/v1/teams/{team_id}", {"description": "d"}).status_code == 200
    assert acme.post("/api/v1/reps", {"external_id": "crm-9", "team": team_id}).status_code == 201
    assert acme.patch("/api/v1/reps/crm-9", {"name": "Nine"}).status_code == 200
    assert acme.get("/api/v1/reps").status_code == 200
    assert acme.delete("/api/v1/reps/crm-9").status_code == 204
    assert acme.delete(f"/api/v1/teams/{team_id}").status_code == 204

    key = acme.post("/api/v1/api-keys", {"name": "tmp", "role": "read"})
    assert key.status_code == 201
    assert acme.get("/api/v1/api-keys").status_code == 200
    assert acme.get(f"/api/v1/api-keys/{key.json()['id']}").status_code == 200
    assert acme.delete(f"/api/v1/api-keys/{key.json()['id']}").status_code == 204


# --- no token, bad tokens ------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/teams"),
    ("post", "/api/v1/teams"),
    ("get", "/api/v1/reps"),
    ("post", "/api/v1/reps"),
    ("get", "/api/v1/api-keys"),
    ("post", "/api/v1/api-keys"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_token_is_a_401_with_www_authenticate(world: World, db: None, method: str, path: str) -> None:
    response = getattr(ApiClient(world.acme.host), method)(path)
    assert_error(response, 401, code="not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Token {admin}",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer {admin} extra",
        "{admin}",
    ],
)
def test_malformed_authorization_header_is_a_401(world: World, acme: ApiClient, header: str) -> None:
    value = header.format(admin=world.acme.admin)
    response = ApiClient(world.acme.host).get("/api/v1/teams", headers={"Authorization": value})
    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    response = ApiClient(world.acme.host).post(
        "/api/v1/teams", {"name": "x"}, headers={"Authorization": value}
    )
    assert_error(response, 401)
    assert acme.get("/api/v1/teams").json()["count"] == 0


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "ssik_garbage",
        "ssik_" + "A" * 43,
        "ssip_" + "A" * 43,
        "ssir_" + "A" * 43,
        "ssik_" + "A" * 300,
    ],
)
def test_garbage_token_is_a_401(world: World, acme: ApiClient, token: str) -> None:
    client = ApiClient(world.acme.host, token)
    response = client.get("/api/v1/reps")
    assert_error(response, 401, code="invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.post("/api/v1/reps", {"external_id": "x"}), 401, code="invalid_token")
    assert acme.get("/api/v1/reps").json()["count"] == 0


def test_a_token_with_a_real_prefix_but_wrong_secret_is_a_401(world: World, acme: ApiClient) -> None:
    real = world.acme.admin
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    assert_error(ApiClient(world.acme.host, forged).get("/api/v1/reps"), 401, code="invalid_token")


def test_the_bearer_scheme_is_case_insensitive(world: World, db: None) -> None:
    response = ApiClient(world.acme.host).get(
        "/api/v1/teams", headers={"Authorization": f"bearer {world.acme.read}"}
    )
    assert response.status_code == 200
