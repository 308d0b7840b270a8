"""Bad input gets the one JSON error shape, never an HTML page or a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import World, in_tenant


@pytest.fixture
def rep(world: World, db: None) -> str:
    with in_tenant("acme"):
        RepFactory.create(external_id="crm-1", team=TeamFactory.create())
    return "crm-1"


# --- bodies --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["{not json", '{"name": "x",}', "NaN", '{"name": NaN}', '"unterminated'])
def test_malformed_json_is_a_400_parse_error(acme: ApiClient, raw: str) -> None:
    body = assert_error(acme.post("/api/v1/teams", raw, raw=True), 400, code="parse_error")
    assert body["type"] == "validation_error"
    assert acme.get("/api/v1/teams").json()["count"] == 0


def test_a_body_that_is_not_utf8_is_a_400_parse_error(acme: ApiClient) -> None:
    response = acme.post("/api/v1/teams", b'{"name": "\xff\xfe"}', raw=True)
    assert_error(response, 400, code="parse_error")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_a_415(acme: ApiClient, content_type: str) -> None:
    response = acme.post("/api/v1/teams", "name=x", headers={"Content-Type": content_type}, raw=True)
    assert_error(response, 415, code="unsupported_media_type")
    assert acme.get("/api/v1/teams").json()["count"] == 0


@pytest.mark.parametrize(
    ("method", "path", "fields", "ok"),
    [
        ("post", "/api/v1/reps", {"external_id": "crm-2"}, 201),
        ("patch", "/api/v1/reps/crm-1", {}, 200),
        ("put", "/api/v1/reps/crm-1", {}, 200),
    ],
)
def test_a_body_over_the_limit_is_a_413(
    acme: ApiClient, rep: str, method: str, path: str, fields: dict[str, str], ok: int
) -> None:
    with override_settings(SSI_MAX_BODY_BYTES=1000):
        response = getattr(acme, method)(path, {**fields, "name": "x" * 1200})
        body = assert_error(response, 413, code="request_too_large")
        assert body["type"] == "client_error"
        assert acme.get("/api/v1/reps", {"search": "xxxx"}).json()["count"] == 0

        # Under the limit, the same request goes through.
        small = getattr(acme, method)(path, {**fields, "name": "y" * 100})
        assert small.status_code == ok, small.content
        assert small.json()["name"] == "y" * 100


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"external_id": "crm-2", "active": "maybe"}, "active"),
        ({"external_id": "crm-2", "active": [True]}, "active"),
        ({"external_id": "crm-2", "team": "abc"}, "team"),
        ({"external_id": "crm-2", "team": {"id": 1}}, "team"),
        ({"external_id": "crm-2", "team": True}, "team"),
        ({"external_id": ["crm-2"]}, "external_id"),
        ({"external_id": {"id": "crm-2"}}, "external_id"),
        ({"external_id": "crm-2", "email": 7}, "email"),
        ({"external_id": "crm-2", "name": {"first": "Ada"}}, "name"),
    ],
)
def test_wrong_types_are_a_400_naming_the_field(acme: ApiClient, payload: dict[str, Any], attr: str) -> None:
    body = assert_error(acme.post("/api/v1/reps", payload), 400, attr=attr)
    assert body["type"] == "validation_error"
    assert_error(acme.get("/api/v1/reps/crm-2"), 404)


def test_an_empty_body_is_an_empty_object(acme: ApiClient) -> None:
    assert_error(acme.post("/api/v1/teams", "", raw=True), 400, code="required", attr="name")


def test_several_field_problems_are_all_reported(acme: ApiClient) -> None:
    body = assert_error(acme.post("/api/v1/reps", {"active": "maybe", "team": "abc"}), 400)
    assert {e["attr"] for e in body["errors"]} == {"external_id", "active", "team"}


@pytest.mark.parametrize("raw", ["[]", '[{"name": "x"}]', '"a string"', "42", "null", "true"])
@pytest.mark.parametrize("path", ["/api/v1/teams", "/api/v1/reps", "/api/v1/api-keys"])
def test_a_body_that_is_not_an_object_is_a_400(acme: ApiClient, path: str, raw: str) -> None:
    body = assert_error(acme.post(path, raw, raw=True), 400)
    assert body["type"] == "validation_error"


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "/api/v1/teams", {"name": "x", "colour": "red"}),
        ("patch", "/api/v1/teams/{team}", {"colour": "red"}),
        ("post", "/api/v1/reps", {"external_id": "crm-2", "colour": "red"}),
        ("patch", "/api/v1/reps/crm-1", {"colour": "red"}),
        ("put", "/api/v1/reps/crm-1", {"name": "x", "colour": "red"}),
        ("post", "/api/v1/api-keys", {"name": "x", "role": "read", "colour": "red"}),
    ],
)
def test_unknown_fields_are_a_400_naming_them(
    acme: ApiClient, rep: str, method: str, path: str, payload: dict[str, Any]
) -> None:
    team = acme.get("/api/v1/reps/crm-1").json()["team"]
    response = getattr(acme, method)(path.format(team=team), payload)
    body = assert_error(response, 400, code="unknown_field", attr="colour")
    assert [e["attr"] for e in body["errors"] if e["code"] == "unknown_field"] == ["colour"]


# --- URLs, hosts, methods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/api/v1/nope", "/api/v2/reps", "/api/v1/reps/", "/admin/", "/static/x.css"]
)
def test_unknown_url_on_a_tenant_host_is_a_json_404(acme: ApiClient, path: str) -> None:
    body = assert_error(acme.get(path), 404, code="not_found")
    assert body["type"] == "client_error"


def test_unknown_url_on_the_platform_host_is_a_json_404(platform: ApiClient) -> None:
    assert_error(platform.get("/api/v1/nope"), 404, code="not_found")
    assert_error(platform.get("/api/v1/reps"), 404, code="not_found")


@pytest.mark.parametrize("host", ["nobody.localhost", "example.com", "acme.localhost.evil.com", "acme"])
def test_unknown_host_is_a_json_404_tenant_not_found(world: World, db: None, host: str) -> None:
    response = ApiClient(host, world.acme.admin).get("/api/v1/reps")
    assert_error(response, 404, code="tenant_not_found")


def test_host_matching_ignores_case_port_and_trailing_dot(world: World, db: None) -> None:
    for host in ("ACME.localhost", "acme.localhost:8000", "acme.localhost."):
        response = ApiClient(host, world.acme.read).get("/api/v1/reps")
        assert response.status_code == 200, (host, response.content)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/v1/api-keys"),
        ("patch", "/api/v1/api-keys"),
        ("delete", "/api/v1/api-keys"),
        ("delete", "/api/v1/teams"),
        ("put", "/api/v1/reps"),
        ("post", "/api/v1/reps/crm-1"),
        ("post", "/api/v1/teams/1"),
    ],
)
def test_unsupported_method_is_a_json_405(acme: ApiClient, rep: str, method: str, path: str) -> None:
    response = acme.delete(path) if method == "delete" else getattr(acme, method)(path, {})
    assert_error(response, 405, code="method_not_allowed")
    assert acme.get("/api/v1/reps").json()["count"] == 1


def test_unsupported_method_on_the_platform_host_is_a_json_405(platform: ApiClient) -> None:
    assert_error(platform.put("/api/v1/platform/tenants/acme", {"name": "x"}), 405, code="method_not_allowed")


@pytest.mark.parametrize("host", ["acme.localhost", PLATFORM_HOST])
def test_the_health_probes_refuse_writes_with_a_json_405(world: World, db: None, host: str) -> None:
    assert_error(ApiClient(host).post("/healthz", {}), 405, code="method_not_allowed")


# --- the shape itself ----------------------------------------------------------------------------------


def test_every_error_has_exactly_type_and_errors(acme: ApiClient, world: World) -> None:
    answers = [
        acme.post("/api/v1/teams", "{", raw=True),
        acme.post("/api/v1/teams", {}),
        acme.get("/api/v1/teams/999999"),
        ApiClient(world.acme.host).get("/api/v1/teams"),
        ApiClient(world.acme.host, world.acme.read).post("/api/v1/teams", {"name": "x"}),
        acme.put("/api/v1/api-keys", {}),
        acme.get("/nope"),
    ]
    for response in answers:
        body = assert_error(response, response.status_code)
        assert body["type"] in ("validation_error", "client_error")
        assert response.status_code >= 400
        for item in body["errors"]:
            assert isinstance(item["code"], str) and item["code"]
            assert isinstance(item["detail"], str) and item["detail"]
            assert item["attr"] is None or isinstance(item["attr"], str)
        json.dumps(body)


# --- bad input that must not be a 500 ------------------------------------------------------------------


def test_deeply_nested_json_is_a_400_not_a_500(acme: ApiClient) -> None:
    raw = "[" * 10_000 + "]" * 10_000  # 20 kB, far below the body limit
    assert_error(acme.post("/api/v1/teams", raw, raw=True), 400, code="parse_error")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/reps/a%00b"),
        ("patch", "/api/v1/reps/a%00b"),
        ("delete", "/api/v1/reps/a%00b"),
    ],
)
def test_a_nul_byte_in_a_rep_url_is_a_404_not_a_500(acme: ApiClient, method: str, path: str) -> None:
    response = acme.patch(path, {"name": "x"}) if method == "patch" else getattr(acme, method)(path)
    assert_error(response, 404)


def test_a_nul_byte_in_a_tenant_url_is_a_404_not_a_500(platform: ApiClient) -> None:
    assert_error(platform.get("/api/v1/platform/tenants/a%00b"), 404)


def test_a_fractional_team_id_is_a_400_not_another_team(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team = TeamFactory.create()
    response = acme.post("/api/v1/reps", {"external_id": "crm-2", "team": team.pk + 0.5})
    assert_error(response, 400, attr="team")


def test_a_nul_byte_in_the_authorization_header_is_a_401(world: World, db: None) -> None:
    response = ApiClient(world.acme.host, "ssik_abc\x00def").get("/api/v1/reps")
    assert_error(response, 401, code="invalid_token")


def test_a_nul_byte_in_x_tenant_is_a_404(world: World, db: None) -> None:
    response = ApiClient("localhost", world.acme.admin, headers={"X-Tenant": "ac\x00me"}).get("/api/v1/reps")
    assert_error(response, 404, code="tenant_not_found")


@pytest.mark.parametrize("query", [{"active": "maybe"}, {"team": "1.5"}, {"team": "abc"}])
def test_a_filter_value_that_cannot_be_read_is_a_400(acme: ApiClient, query: dict[str, str]) -> None:
    assert_error(acme.get("/api/v1/reps", query), 400, attr=next(iter(query)))


# --- database errors: 503 only when the database cannot be reached ---------------------------------

# PostgreSQL refuses a target list over 1,664 entries: SQLSTATE 54011, which psycopg files under
# OperationalError like a lost connection.
REFUSED_STATEMENTS = {
    "too-many-columns": "SELECT " + ", ".join(["1"] * 1700),
    "data-error": "SELECT 1 / 0",
    "programming-error": "SELECT no_such_column FROM scoring_team",
}


def refusing(table: str, sql: str) -> Any:
    """An ``execute_wrapper`` that runs ``sql`` instead of the first statement reading ``table``."""

    def wrapper(execute: Any, query: str, params: Any, many: bool, context: Any) -> Any:
        if table in query:
            return execute(sql, None, many, context)
        return execute(query, params, many, context)

    return wrapper


@pytest.mark.parametrize("sql", REFUSED_STATEMENTS.values(), ids=REFUSED_STATEMENTS.keys())
@pytest.mark.parametrize(
    ("table", "where"),
    [("scoring_team", "a view"), ("tenants_tenant", "tenant routing")],
    ids=["view", "routing"],
)
def test_a_statement_the_database_refuses_is_a_500_not_a_503(
    acme: ApiClient, table: str, where: str, sql: str
) -> None:
    """A bug, not an outage: a retry would fail the same way, so no Retry-After invites one."""
    from django.db import connection
    from django.test import Client

    acme.client = Client(raise_request_exception=False)  # routing's error goes to handler500
    with connection.execute_wrapper(refusing(table, sql)):
        response = acme.get("/api/v1/teams")
    body = assert_error(response, 500, code="server_error")
    assert body["type"] == "server_error"
    assert "Retry-After" not in response, where
