"""OpenAPI: bearer auth, and the error answers of every operation.

drf-spectacular documents the success answer; this adds the shared ``Error``
shape for each error status an operation can give, so clients see them all.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse

from api.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: each problem names its field in `attr`.",
    "401": "No token, a malformed header, or an invalid or revoked token (`WWW-Authenticate: Bearer`).",
    "403": "The token is valid but may not do this.",
    "404": "No such resource, or no such tenant for the host or `X-Tenant` header.",
    "409": "Conflicts with the current state (an identifier that exists, the last admin key).",
    "413": "The request body is larger than the limit.",
    "415": "The body is not `application/json`.",
    "422": "The `Idempotency-Key` was used before with another request body.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
    "500": "An unexpected error; it is logged.",
    "503": "A dependency (the database) is unavailable; retry after `Retry-After` seconds.",
}


class AutoSchema(BaseAutoSchema):
    def _error_statuses(self) -> list[str]:
        statuses = ["404", "500", "503"]
        if any(self.get_auth()):  # drf-spectacular gives [{}] for endpoints without auth
            statuses += ["401", "403", "429"]
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += ["400", "409", "413", "415"]
        elif self.get_filter_backends() or (
            # A list, or a read that takes query parameters (a date, a period): those are checked.
            self.method == "GET" and (self._is_list_view() or self.get_override_parameters())
        ):
            statuses.append("400")
        statuses += getattr(self.view, "extra_error_statuses", [])
        return sorted(set(statuses))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_statuses():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                )
        return responses

    def _map_serializer(self, serializer: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        from api.v1.serializers import StrictInputSerializer

        result = super()._map_serializer(serializer, direction, bypass_extensions)
        inherited = inspect.cleandoc(StrictInputSerializer.__doc__ or "")
        if isinstance(serializer, StrictInputSerializer) and result.get("description") == inherited:
            del result["description"]  # the base class's docstring
        if direction == "response":
            _always_present(serializer, result)
        return result


def _always_present(serializer: Any, component: dict[str, Any]) -> None:
    """An answer carries every field of its serializer, but those declared ``required=False``.

    drf-spectacular marks a response field required only when its serializer field
    is; a model field with a default is not, yet the answer always has it. Typed
    clients would make every such field optional.
    """
    declared = getattr(serializer, "_declared_fields", {})
    optional = {name for name, field in declared.items() if field._kwargs.get("required") is False}
    required = [name for name in component.get("properties", {}) if name not in optional]
    if required:
        component["required"] = required


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
    goals = result.get("paths", {}).get("/api/v1/goals", {})
    if "post" in goals:  # a rep goal or a team goal: the body is not optional
        goals["post"]["requestBody"]["required"] = True
    for no_fields in (
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        "/api/v1/members/{id}/invite",
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
    schemas.update(_criteria_schemas())
    for name in ("ScoringConfigInputRequest", "ScoringConfig"):  # what is sent is what is answered
        if name in schemas:
            _scoring_config_schema(schemas[name])
    if "PatchedTenantSettingsPatchRequest" in schemas:
        _settings_schema(schemas["PatchedTenantSettingsPatchRequest"])
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
    for name in ("BadgeInputRequest", "PatchedBadgeInputRequest", "Badge"):
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


def _ecma(pattern: str) -> str:
    """A Python pattern anchored with ``\\Z`` as an ECMA-262 one (``$``: no multiline there)."""
    return pattern.removesuffix(r"\Z") + "$" if pattern.endswith(r"\Z") else pattern


def _event_types() -> dict[str, Any]:
    from scoring.engine.catalog import EVENT_TYPES

    return {"type": "string", "enum": sorted(EVENT_TYPES)}


def _scoring_config_schema(component: dict[str, Any]) -> None:
    """A scoring config (docs/scoring.md#changing-the-config), as far as JSON Schema can say it.

    Not stated: the pillars' ``max_points`` add up to 100 (``invalid_total``);
    signal keys are unique across pillars and custom names are new
    (``duplicate``); custom event types may be used in ``types`` once declared.
    """
    component["properties"]["pillars"] = _pillars_schema()
    component["properties"]["custom_event_types"] = _custom_event_types_schema()


def _pillars_schema() -> dict[str, Any]:
    """The four pillars, each its ``max_points`` and signals."""
    from scoring.engine.catalog import PILLARS
    from scoring.engine.config import MAX_SIGNALS_PER_PILLAR

    pillar = {
        "type": "object",
        "properties": {
            "max_points": {"type": "number", "minimum": 0, "maximum": 100},
            "signals": {
                "type": "array",
                "items": _signal_schema(),
                "minItems": 1,
                "maxItems": MAX_SIGNALS_PER_PILLAR,
            },
        },
        "required": ["max_points", "signals"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": dict.fromkeys(PILLARS, pillar),
        "required": list(PILLARS),
        "additionalProperties": False,
        "description": "brand, find, engage, relationships; their `max_points` add up to 100.",
    }


def _signal_schema() -> dict[str, Any]:
    """A signal: a ratio of two sets of event types, a kind that counts ``types``, or active days."""
    from scoring.engine.config import KEY_RE, KINDS

    types = {"type": "array", "items": _event_types(), "uniqueItems": True}
    common = {
        "key": {"type": "string", "pattern": _ecma(KEY_RE.pattern)},
        "target": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
        "weight": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
        "tip": {"type": "string", "maxLength": 500, "nullable": True},
    }
    ratio = {
        **common,
        "kind": {"type": "string", "enum": ["ratio"]},
        "numerator": {**types, "minItems": 1},
        "denominator": {**types, "minItems": 1},
        "min_denominator": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
    }
    of_types = {
        **common,
        "kind": {"type": "string", "enum": [k for k in KINDS if k not in ("ratio", "active_days")]},
        "types": {**types, "minItems": 1},
    }
    active_days = {**common, "kind": {"type": "string", "enum": ["active_days"]}, "types": types}
    return {
        "oneOf": [
            _closed_object(ratio, ["key", "kind", "target", "weight", "numerator", "denominator"]),
            _closed_object(of_types, ["key", "kind", "target", "weight", "types"]),
            _closed_object(active_days, ["key", "kind", "target", "weight"]),
        ]
    }


def _closed_object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """An object of exactly these properties."""
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _custom_event_types_schema() -> dict[str, Any]:
    """The tenant's own event types: a name and the XP it earns."""
    from scoring.engine.config import CUSTOM_TYPE_RE, MAX_CUSTOM_TYPES, MAX_XP

    return {
        "type": "array",
        "maxItems": MAX_CUSTOM_TYPES,
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": _ecma(CUSTOM_TYPE_RE.pattern)},
                "xp": {"type": "integer", "minimum": 0, "maximum": MAX_XP},
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    }


def _settings_schema(component: dict[str, Any]) -> None:
    """Settings: event types of ``xp_per_type`` are the catalog's (custom ones once declared)."""
    from tenants.tenant_settings import MAX_LEVELS, MAX_XP

    props = component["properties"]
    props["xp_per_type"] = {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 0, "maximum": MAX_XP},
        "description": "Event type -> XP (a catalog type, or a custom one of the scoring config).",
    }
    props["level_thresholds"] = {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_LEVELS,
        "items": {"type": "integer", "minimum": 0, "maximum": 10**9},
        "description": "XP needed for each level: starts at 0 (level 1) and increases.",
    }


def _criteria_schemas() -> dict[str, dict[str, Any]]:
    """A criteria tree as named components: ``Criteria`` is one of ``CriteriaAll``,
    ``CriteriaAny``, ``WindowedCondition`` or ``Condition``.

    Named, so that generators make a class of each and resolve the recursion
    (``all``/``any`` hold more ``Criteria``). The rules: docs/gamification.md#criteria.
    """
    from gamification.rules.criteria import (
        MAX_CONDITIONS,
        MAX_WINDOW_DAYS,
        MAX_WINDOWS,
        OPS,
        PLAIN_METRICS,
        TYPED_PREFIXES,
        WINDOWED_PREFIXES,
    )

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    # A list of more conditions than the whole tree may hold is refused anyway.
    children = {"type": "array", "items": ref("Criteria"), "minItems": 1, "maxItems": MAX_CONDITIONS}
    condition = {"op": {"type": "string", "enum": list(OPS)}, "value": {"type": "number"}}
    plain = {"type": "string", "enum": sorted(PLAIN_METRICS)}
    required = ["metric", "op", "value"]
    return {
        "Criteria": {
            "description": (
                'A criteria tree: `{"all": [...]}`, `{"any": [...]}` or a condition `{metric, op, value, '
                "window_days?}` (`window_days` only for `events.*` and `sum.*`), at most 5 levels deep, "
                f"at most {MAX_CONDITIONS} conditions in all (`too_many_conditions`) and {MAX_WINDOWS} "
                "different `window_days` (`too_many_windows`), a 400 naming `criteria`. "
                "A metric of an event type the tenant does not have is a 400 (`unknown_metric`)."
            ),
            "oneOf": [ref("CriteriaAll"), ref("CriteriaAny"), ref("WindowedCondition"), ref("Condition")],
        },
        "CriteriaAll": {
            **_closed_object({"all": children}, ["all"]),
            "description": "Met when every criteria of `all` is.",
        },
        "CriteriaAny": {
            **_closed_object({"any": children}, ["any"]),
            "description": "Met when one criteria of `any` is.",
        },
        "WindowedCondition": {
            **_closed_object(
                {
                    "metric": _typed_metric(WINDOWED_PREFIXES),
                    **condition,
                    "window_days": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_DAYS},
                },
                [*required, "window_days"],
            ),
            "description": "A count (`events.<type>`) or sum (`sum.<type>`) over the last "
            "`window_days` days.",
        },
        "Condition": {
            **_closed_object(
                {"metric": {"anyOf": [plain, _typed_metric(TYPED_PREFIXES)]}, **condition}, required
            ),
            "description": "A metric compared to a value: `<metric> <op> <value>`.",
        },
    }


def _typed_metric(prefixes: tuple[str, ...]) -> dict[str, Any]:
    """A metric of an event type: one of ``prefixes`` then the type's name."""
    alternatives = "|".join(p.replace(".", r"\.") for p in prefixes)
    return {"type": "string", "pattern": f"^({alternatives})[a-z][a-z0-9_]{{0,63}}$"}


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "`Authorization: Bearer <token>`: a platform key (`ssip_…`) on the platform host; "
                "a tenant API key (`ssik_…`) or a rep token (`ssir_…`) on a tenant host."
            ),
        }
