"""Postprocessing hooks: what drf-spectacular cannot infer, stated in the document.

Request bodies refuse unknown fields; bodies a service checks by hand get their
shapes (api/schema/bodies.py); ``X-Tenant`` on every tenant operation; names for
enum values that are no identifiers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from api.schema.bodies import criteria_schemas, scoring_config_schema, settings_schema


def strict_request_bodies(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: every request body refuses fields it does not know (``unknown_field``).

    Every input (serializers and hand-parsed bodies) answers 400 to an unknown
    field; the schema says so with ``additionalProperties: false``.
    """
    schemas = result.get("components", {}).get("schemas", {})
    for name, component in schemas.items():
        if name.endswith("Request") and component.get("type") == "object":
            component.setdefault("additionalProperties", False)
    _hand_checked_bodies(schemas)
    for name, component in schemas.items():
        if name.endswith("Request") or name in _CRITERIA_COMPONENTS:
            _no_nul(component)
        if name.endswith("Request"):
            _defaults_in_words(component)
    slug = schemas.get("TenantCreateInRequest", {}).get("properties", {}).get("slug")
    if slug is not None:
        slug["minLength"] = 2  # the service checks it (invalid_slug); DRF's min_length would say min_length
    for required_body in (
        "/api/v1/goals",
        "/api/v1/contests",
        "/api/v1/contest-series",
        "/api/v1/challenges",
        "/api/v1/badges/preview",
    ):
        item = result.get("paths", {}).get(required_body, {})
        if "post" in item:  # a body is not optional (a rep or team goal; a contest; a badge or a change)
            item["post"]["requestBody"]["required"] = True
    for no_fields in (
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        "/api/v1/members/{id}/invite",
        "/api/v1/contests/{id}/cancel",
        "/api/v1/challenges/{id}/accept",
        "/api/v1/challenges/{id}/decline",
        "/api/v1/platform/tenants/{slug}/restore",
        "/api/v1/exports",
    ):
        item = result.get("paths", {}).get(no_fields, {})
        if "post" in item:  # no fields: nothing, or {}
            item["post"]["requestBody"]["content"]["application/json"]["schema"] = {
                "type": "object",
                "properties": {},
                "additionalProperties": False,
            }
    for item in result.get("paths", {}).values():  # query strings too (Django's forms refuse U+0000)
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query":
                    _no_nul(parameter.get("schema"))
    return result


X_TENANT = {
    "in": "header",
    "name": "X-Tenant",
    "required": False,
    # No pattern: a tenant host ignores the header, whatever it holds.
    "schema": {"type": "string"},
    "description": "The tenant's slug, on the platform host only (for clients that call one fixed host); "
    "an unknown slug is a 404 `tenant_not_found`. Ignored on a tenant's own host.",
}


def tenant_header(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: every tenant operation may name its tenant with ``X-Tenant``."""
    for path, item in result.get("paths", {}).items():
        if path.startswith("/api/v1/platform/"):
            continue
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("security") != [{}] and "security" in operation:
                # Inline rather than a $ref: each operation's parameters read as a plain list.
                operation.setdefault("parameters", []).append(dict(X_TENANT))
    return result


# Names for enum values that are no identifiers, for generators that make an enum class.
ENUM_VALUE_NAMES = {">=": "GTE", ">": "GT", "<=": "LTE", "<": "LT", "==": "EQ", "*": "ALL", "": "BLANK"}


def enum_names(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: ``x-enum-varnames`` on enums holding a value like ``>=`` or ``*``.

    openapi-python-client would name them ``VALUE_0``, ``VALUE_1``...
    """

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            values = node.get("enum")
            if isinstance(values, list) and any(v in ENUM_VALUE_NAMES for v in values if isinstance(v, str)):
                node["x-enum-varnames"] = [
                    ENUM_VALUE_NAMES.get(v) or re.sub(r"\W+", "_", str(v)).strip("_").upper() for v in values
                ]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result)
    return result


def _hand_checked_bodies(schemas: dict[str, Any]) -> None:
    """The request bodies a service checks by hand (scoring config, settings, criteria, the
    events of a batch, goals), described as far as JSON Schema can say it."""
    if "ScoringConfigInputRequest" in schemas and "PreviewInputRequest" in schemas:
        schemas["PreviewInputRequest"]["properties"]["config"] = {
            "allOf": [{"$ref": "#/components/schemas/ScoringConfigInputRequest"}],
            "description": "A whole config, as for PUT.",
        }
    schemas.update(criteria_schemas())
    for name in ("ScoringConfigInputRequest", "ScoringConfig"):  # what is sent is what is answered
        if name in schemas:
            scoring_config_schema(schemas[name], answer=name == "ScoringConfig")
    if "PatchedTenantSettingsPatchRequest" in schemas:
        settings_schema(schemas["PatchedTenantSettingsPatchRequest"])
    if "BatchInRequest" in schemas:
        # Each event is validated on its own: a bad one is listed in `rejected` (200), not a 400.
        schemas["BatchInRequest"]["properties"]["events"] = {
            "type": "array",
            "maxItems": 1000,
            "items": {"$ref": "#/components/schemas/EventInRequest"},
            "description": "At most 1000 events. An event that is not valid does not fail the batch: it "
            "is listed in `rejected` with its errors (the other events are stored).",
        }
    # A rep goal names no team and no aggregate; a team goal no rep: a typed client cannot send both.
    _only_null(schemas.get("RepGoalInputRequest"), team="integer", aggregate="string")
    _only_null(schemas.get("TeamGoalInputRequest"), rep="string")
    for name in (
        "BadgeInputRequest",
        "PatchedBadgeInputRequest",
        "Badge",
        "BadgeCreateInputRequest",
        "BadgeChangesRequest",
        "BadgeCreated",
    ):
        if name in schemas:
            schemas[name]["properties"]["criteria"] = {"$ref": "#/components/schemas/Criteria"}


def _defaults_in_words(component: dict[str, Any]) -> None:
    """A request field's default in its description, not as ``default``.

    openapi-typescript types a property with a ``default`` as always present,
    which in a request would oblige the client to send what it may leave out.
    """
    for prop in component.get("properties", {}).values():
        if "default" in prop:
            default = json.dumps(prop.pop("default"))
            prop["description"] = f"{prop.get('description', '').rstrip()} Default: `{default}`.".lstrip()


_CRITERIA_COMPONENTS = ("Criteria", "CriteriaAll", "CriteriaAny", "WindowedCondition", "Condition")


def _only_null(component: dict[str, Any] | None, **types: str) -> None:
    """Properties that may be left out or be null, nothing else (the other kind of goal's)."""
    if component is not None:
        for name, type_ in types.items():
            component["properties"][name] = {
                "type": type_,
                "nullable": True,
                "enum": [None],
                "description": "Leave out (or null).",
            }


def _no_nul(node: Any) -> None:
    """Text never holds U+0000: DRF refuses it (`null_characters_not_allowed`), PostgreSQL cannot."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not ({"enum", "pattern", "format"} & set(node)):
            node["pattern"] = "^[^\\u0000]*$"
        for value in node.values():
            _no_nul(value)
    elif isinstance(node, list):
        for value in node:
            _no_nul(value)
