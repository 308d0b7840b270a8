"""The shapes of the request bodies a service checks by hand, as far as JSON Schema can say them:
the scoring config, the tenant's settings, badge criteria."""

from __future__ import annotations

from typing import Any


def _ecma(pattern: str) -> str:
    """A Python pattern anchored with ``\\Z`` as an ECMA-262 one (``$``: no multiline there)."""
    return pattern.removesuffix(r"\Z") + "$" if pattern.endswith(r"\Z") else pattern


def _event_types() -> dict[str, Any]:
    """An event type: the catalog's, or a custom one the config declares (``unknown_event_type``
    otherwise, a rule the schema cannot state)."""
    from scoring.engine.catalog import EVENT_TYPES
    from scoring.engine.config import CUSTOM_TYPE_RE

    return {
        "anyOf": [
            {"type": "string", "enum": sorted(EVENT_TYPES)},
            {"type": "string", "pattern": _ecma(CUSTOM_TYPE_RE.pattern)},
        ]
    }


def scoring_config_schema(component: dict[str, Any], *, answer: bool) -> None:
    """A scoring config (docs/scoring.md#changing-the-config), as far as JSON Schema can say it.

    Not stated: the pillars' ``max_points`` add up to 100 (``invalid_total``);
    signal keys are unique across pillars and custom names are new
    (``duplicate``); custom event types may be used in ``types`` once declared.
    """
    component["properties"]["pillars"] = _pillars_schema()
    component["properties"]["custom_event_types"] = _custom_event_types_schema(answer=answer)


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
            closed_object(ratio, ["key", "kind", "target", "weight", "numerator", "denominator"]),
            closed_object(of_types, ["key", "kind", "target", "weight", "types"]),
            closed_object(active_days, ["key", "kind", "target", "weight"]),
        ]
    }


def closed_object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """An object of exactly these properties."""
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _custom_event_types_schema(*, answer: bool) -> dict[str, Any]:
    """The tenant's own event types: a name and the XP it earns (0 unless sent; always answered)."""
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
            "required": ["name", "xp"] if answer else ["name"],
            "additionalProperties": False,
        },
    }


def settings_schema(component: dict[str, Any]) -> None:
    """Settings: event types of ``xp_per_type`` are the catalog's (custom ones once declared)."""
    from tenants.tenant_settings import (
        MAX_CHALLENGE_ACCEPT_HOURS,
        MAX_DAILY_CAP,
        MAX_EMBED_ORIGINS,
        MAX_FAIR_PLAY_FACTOR,
        MAX_LEVELS,
        MAX_XP,
    )

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
    props["embed_origins"] = {
        "type": "array",
        "maxItems": MAX_EMBED_ORIGINS,
        "items": {"type": "string", "maxLength": 300, "pattern": "^https?://[^/?#@\\s;,]+/?$"},
        "description": "Origins whose pages may frame a rep's own console page (`/console/me`), such as "
        "`https://app.example.com`: scheme, host and an optional port, no path; http only for localhost "
        "and `*.localhost`. Empty: no page may frame it.",
    }
    props["daily_caps"] = {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": MAX_DAILY_CAP},
        "description": "Event type (a catalog type, or a custom one of the scoring config) -> the most "
        "events of that type a rep's local day counts for XP and for the `events.<type>` metric. A type "
        "absent: no cap. SSI and `sum.<type>` are not capped.",
    }
    props["fair_play_factor"] = {
        "type": "number",
        "exclusiveMinimum": True,
        "minimum": 1,
        "maximum": MAX_FAIR_PLAY_FACTOR,
        "description": "`GET /api/v1/fair-play/flags` flags a rep's daily count of a type above the tenant's "
        "99th percentile of daily counts of that type times this factor.",
    }
    props["challenges_enabled"] = {
        "type": "boolean",
        "description": "Whether reps may create head-to-head challenges (`POST /api/v1/challenges`); false: "
        "403 `challenges_disabled`. Default true.",
    }
    props["challenge_accept_hours"] = {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_CHALLENGE_ACCEPT_HOURS,
        "description": "Hours an opponent has, from a challenge's creation, to accept or decline it; after "
        "that it is `expired`. Default 48. A challenge keeps the limit set when it was created.",
    }
    props["challenge_xp"] = {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_XP,
        "description": "XP the winner of a head-to-head challenge gets when it ends (a tie: none). "
        "Default 50.",
    }


def criteria_schemas() -> dict[str, dict[str, Any]]:
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
            **closed_object({"all": children}, ["all"]),
            "description": "Met when every criteria of `all` is.",
        },
        "CriteriaAny": {
            **closed_object({"any": children}, ["any"]),
            "description": "Met when one criteria of `any` is.",
        },
        "WindowedCondition": {
            **closed_object(
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
            **closed_object(
                {"metric": {"anyOf": [plain, _typed_metric(TYPED_PREFIXES)]}, **condition}, required
            ),
            "description": "A metric compared to a value: `<metric> <op> <value>`.",
        },
    }


def _typed_metric(prefixes: tuple[str, ...]) -> dict[str, Any]:
    """A metric of an event type: one of ``prefixes`` then the type's name."""
    alternatives = "|".join(p.replace(".", r"\.") for p in prefixes)
    return {"type": "string", "pattern": f"^({alternatives})[a-z][a-z0-9_]{{0,63}}$"}
