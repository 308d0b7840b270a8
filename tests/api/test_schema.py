"""The OpenAPI document and the Swagger UI: no auth, on every host, one document for every endpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.support.http import PLATFORM_HOST, ApiClient
from tests.support.tenants import World

# Every path of docs/api.md#endpoints. New endpoints join this list.
CONTRACT_PATHS = [
    "/api/v1/platform/tenants",
    "/api/v1/platform/tenants/{slug}",
    "/api/v1/teams",
    "/api/v1/teams/{id}",
    "/api/v1/reps",
    "/api/v1/reps/{external_id}",
    "/api/v1/api-keys",
    "/api/v1/api-keys/{id}",
    "/healthz",
    "/readyz",
    "/api/v1/activities",
    "/api/v1/scoring-config",
    "/api/v1/scoring-config/versions",
    "/api/v1/scoring-config/preview",
    "/api/v1/settings",
    "/api/v1/scores/recompute",
    "/api/v1/jobs/{job_id}",
    "/api/v1/jobs/{job_id}/results",
    "/api/v1/reps/{external_id}/ssi",
    "/api/v1/reps/{external_id}/ssi/history",
    "/api/v1/reps/{external_id}/ssi/explain",
    "/api/v1/scores",
    "/api/v1/company/ssi",
    "/api/v1/company/ssi/history",
    "/api/v1/teams/{id}/ssi",
    "/api/v1/teams/{id}/ssi/history",
    "/api/v1/badges",
    "/api/v1/badges/{slug}",
    "/api/v1/badges/preview",
    "/api/v1/reps/{external_id}/badges",
    "/api/v1/awards",
    "/api/v1/goals",
    "/api/v1/goals/{id}",
    "/api/v1/leaderboards/{metric}",
    "/api/v1/rep-tokens",
]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ERROR_REF = "#/components/schemas/Error"


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def response_ref(response: dict[str, Any]) -> str | None:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref: str | None = schema.get("$ref")
    return ref


@pytest.fixture
def schema(world: World, db: None) -> dict[str, Any]:
    response = ApiClient(PLATFORM_HOST).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:500]
    doc: dict[str, Any] = response.json()
    return doc


@pytest.mark.parametrize("host", [PLATFORM_HOST, "acme.localhost", "globex.localhost"])
def test_schema_is_served_without_auth_on_every_host(world: World, db: None, host: str) -> None:
    response = ApiClient(host).get("/api/v1/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.content[:500]
    assert "json" in response["Content-Type"]
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"]
    assert set(CONTRACT_PATHS) <= set(doc["paths"])


def test_schema_is_one_document_whatever_the_host(world: World, db: None) -> None:
    documents = [
        ApiClient(host).get("/api/v1/schema/", {"format": "json"}).json()
        for host in (PLATFORM_HOST, "acme.localhost")
    ]
    assert documents[0] == documents[1]


def test_schema_ignores_a_bad_token(world: World, db: None) -> None:
    response = ApiClient("acme.localhost", "ssik_garbage").get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200


def test_schema_is_also_served_as_yaml(world: World, db: None) -> None:
    response = ApiClient(PLATFORM_HOST).get("/api/v1/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


@pytest.mark.parametrize("path", CONTRACT_PATHS)
def test_schema_documents_every_contract_path(schema: dict[str, Any], path: str) -> None:
    assert path in schema["paths"], sorted(schema["paths"])


def test_schema_documents_the_contract_methods(schema: dict[str, Any]) -> None:
    def methods(path: str) -> set[str]:
        return set(schema["paths"][path]) & HTTP_METHODS

    assert methods("/api/v1/platform/tenants") == {"get", "post"}
    assert methods("/api/v1/platform/tenants/{slug}") == {"get", "patch", "delete"}
    assert methods("/api/v1/teams") == {"get", "post"}
    assert {"get", "patch", "delete"} <= methods("/api/v1/teams/{id}")
    assert methods("/api/v1/reps") == {"get", "post"}
    assert {"get", "patch", "delete"} <= methods("/api/v1/reps/{external_id}")
    assert methods("/api/v1/api-keys") == {"get", "post"}
    assert methods("/api/v1/api-keys/{id}") == {"get", "delete"}
    assert methods("/healthz") == {"get"}
    assert methods("/readyz") == {"get"}


def test_platform_operations_and_only_they_are_tagged_platform(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        is_platform = path.startswith("/api/v1/platform/")
        assert ("platform" in operation.get("tags", [])) == is_platform, (method, path, operation.get("tags"))


def test_every_operation_has_tags_and_a_summary(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        assert operation.get("tags"), (method, path)
        assert operation.get("summary"), (method, path)


def test_every_operation_has_a_description(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        assert len(operation.get("description", "")) > 20, (method, path)


def test_every_tenant_operation_declares_the_x_tenant_header(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        tenant_operation = not path.startswith("/api/v1/platform/") and path not in ("/healthz", "/readyz")
        assert ("X-Tenant" in headers) == tenant_operation, (method, path)
        if tenant_operation:
            assert headers["X-Tenant"]["required"] is False


def test_the_document_names_its_servers_and_contact(schema: dict[str, Any]) -> None:
    assert schema["servers"][0]["url"] == "{scheme}://{host}"
    assert schema["info"]["contact"]["email"]


def test_time_zones_are_names_checked_by_the_server_not_an_enum(schema: dict[str, Any]) -> None:
    """An enum of every IANA name breaks generators: GMT0 and GMT+0 become the same identifier."""
    components = schema["components"]["schemas"]
    assert "TimezoneEnum" not in components
    for name in (
        "TenantCreateInRequest",
        "PatchedTenantPatchInRequest",
        "TenantOut",
        "TenantCreated",
        "TenantSettings",
        "PatchedTenantSettingsPatchRequest",
    ):
        timezone = components[name]["properties"]["timezone"]
        assert timezone["type"] == "string" and "enum" not in timezone, name
        assert re.match(timezone["pattern"], "America/Argentina/Buenos_Aires"), name


def test_answers_require_the_fields_they_always_carry(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert {"name", "email", "active", "team"} <= set(components["Rep"]["required"])
    badge = set(components["Badge"]["required"])
    assert {"description", "repeat", "xp_reward", "active", "criteria"} <= badge
    assert {"next", "previous", "results"} <= set(components["PaginatedAwardList"]["required"])
    # Only for some signals: left out of the others.
    assert not {"num", "den"} & set(components["SignalExplanation"]["required"])


def test_bearer_security_scheme_is_declared_and_used(schema: dict[str, Any]) -> None:
    scheme = schema["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    for path, method, operation in operations(schema):
        if path in ("/healthz", "/readyz"):
            assert operation.get("security", [{}]) == [{}], (method, path)
        else:
            assert operation["security"] == [{"bearerAuth": []}], (method, path)


def test_every_operation_documents_its_errors_with_the_error_component(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"type", "errors"}
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        errors = {status: r for status, r in responses.items() if status[0] in "45"}
        assert any(response_ref(r) == ERROR_REF for r in errors.values()), (method, path, sorted(responses))
        for status, response in errors.items():
            if status[0] == "4":
                assert response_ref(response) == ERROR_REF, (method, path, status)


def test_authenticated_operations_document_401_and_403(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        if operation.get("security") == [{"bearerAuth": []}]:
            assert {"401", "403"} <= set(operation["responses"]), (method, path)


NON_CREATE_POSTS = {
    "/api/v1/activities": "200",
    "/api/v1/scores/recompute": "202",
    "/api/v1/scoring-config/preview": "200",
    "/api/v1/badges/preview": "200",
    "/api/v1/rep-tokens/revoke": "200",
    "/api/v1/contests/{id}/cancel": "200",
    "/api/v1/challenges/{id}/accept": "200",
    "/api/v1/challenges/{id}/decline": "200",
    "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver": "202",
    "/api/v1/platform/tenants/{slug}/restore": "200",
    "/api/v1/exports": "202",
}


def test_writes_document_400_and_their_success_status(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        if method in ("post", "put", "patch"):
            assert "400" in responses, (method, path)
            assert "requestBody" in operation, (method, path)
        if method == "post":
            # docs/api.md#endpoints: creating answers 201; ingestion 200, recompute 202, a preview 200.
            expected = NON_CREATE_POSTS.get(path, "201")
            assert expected in responses, (method, path, expected)
        if method == "delete":
            assert "204" in responses, (method, path)


def test_api_key_creation_documents_the_secret_only_in_its_answer(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    created = response_ref(schema["paths"]["/api/v1/api-keys"]["post"]["responses"]["201"])
    listed = response_ref(schema["paths"]["/api/v1/api-keys/{id}"]["get"]["responses"]["200"])
    assert created and listed
    assert "key" in components[created.rsplit("/", 1)[1]]["properties"]
    assert "key" not in components[listed.rsplit("/", 1)[1]]["properties"]


def test_unauthenticated_operations_do_not_document_auth_errors(schema: dict[str, Any]) -> None:
    for path in ("/healthz", "/readyz"):
        responses = schema["paths"][path]["get"]["responses"]
        assert not {"401", "403", "429"} & set(responses), (path, sorted(responses))


def test_spectacular_command_validates_without_warnings(tmp_path: Path, schema: dict[str, Any]) -> None:
    out = tmp_path / "openapi.json"
    call_command(
        "spectacular",
        "--urlconf",
        "config.urls_schema",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(out),
    )
    exported = json.loads(out.read_text())
    assert set(CONTRACT_PATHS) <= set(exported["paths"])
    assert exported == schema


def test_spectacular_command_validates_the_default_urlconf_too(tmp_path: Path, db: None) -> None:
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3.")


@pytest.mark.parametrize("host", [PLATFORM_HOST, "acme.localhost"])
def test_swagger_ui_is_served_as_html(world: World, db: None, host: str) -> None:
    response = ApiClient(host).get("/api/v1/docs/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "swagger-ui" in page.lower()
    # No inline script (the page's CSP allows none): the set-up script is served from a URL.
    assert "<script>" not in page
    assert '<script src="/api/v1/docs/?script="></script>' in page
    script = ApiClient(host).get("/api/v1/docs/", {"script": ""})
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
    assert "/api/v1/schema/" in script.content.decode()
