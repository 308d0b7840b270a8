"""The scoring config: default, parsing and validation (docs/scoring.md#changing-the-config).

``parse_config`` turns the API's JSON into frozen dataclasses or raises
``ConfigError`` naming the offending field as a dotted path
(``pillars.engage.signals.4.target``). No Django here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from scoring.engine.catalog import EVENT_TYPES, PILLARS
from scoring.engine.errors import PathError

KINDS = ("count", "state", "ratio", "active_days")
# \Z, not $: "$" also matches before a final newline ("posts\n" would pass).
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
CUSTOM_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
# Signals per pillar of a new config: each is computed for every rep by every recompute and
# preview. A stored version is read under the bound it was saved with (``parse_config``).
MAX_SIGNALS_PER_PILLAR = 12
STORED_MAX_SIGNALS_PER_PILLAR = 50
MAX_CUSTOM_TYPES = 200
MAX_XP = 100_000


class ConfigError(PathError):
    """An invalid scoring config."""


@dataclass(frozen=True)
class Signal:
    key: str
    kind: str
    types: tuple[str, ...]
    target: float
    weight: float
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    min_denominator: float = 1.0
    tip: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "kind": self.kind}
        if self.kind == "ratio":
            out |= {
                "numerator": list(self.numerator),
                "denominator": list(self.denominator),
                "min_denominator": _num_out(self.min_denominator),
            }
        else:
            out["types"] = list(self.types)
        out |= {"target": _num_out(self.target), "weight": _num_out(self.weight)}
        if self.tip is not None:
            out["tip"] = self.tip
        return out


@dataclass(frozen=True)
class Pillar:
    key: str
    max_points: float
    signals: tuple[Signal, ...]

    @property
    def weight_sum(self) -> float:
        return math.fsum(s.weight for s in self.signals)


@dataclass(frozen=True)
class CustomEventType:
    name: str
    xp: int


@dataclass(frozen=True)
class Config:
    window_days: int
    half_life_days: float | None
    pillars: tuple[Pillar, ...]
    custom_event_types: tuple[CustomEventType, ...] = ()

    @property
    def signals(self) -> Iterable[tuple[Pillar, Signal]]:
        for pillar in self.pillars:
            for signal in pillar.signals:
                yield pillar, signal

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(EVENT_TYPES) | {c.name for c in self.custom_event_types}

    @property
    def state_types(self) -> frozenset[str]:
        return frozenset(t for _, s in self.signals if s.kind == "state" for t in s.types)

    @property
    def active_day_type_sets(self) -> frozenset[frozenset[str]]:
        """The type sets of the active_days signals (an empty set means every type)."""
        return frozenset(frozenset(s.types) for _, s in self.signals if s.kind == "active_days")

    def decay(self, age_days: int) -> float:
        """The weight of an event ``age_days`` old in a count signal (1 when there is no half-life)."""
        if self.half_life_days is None:
            return 1.0
        return float(0.5 ** (age_days / self.half_life_days))

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_days": self.window_days,
            "half_life_days": _num_out(self.half_life_days),
            "custom_event_types": [{"name": c.name, "xp": c.xp} for c in self.custom_event_types],
            "pillars": {
                p.key: {"max_points": _num_out(p.max_points), "signals": [s.to_dict() for s in p.signals]}
                for p in self.pillars
            },
        }


def _num_out(value: float | None) -> float | int | None:
    """Whole numbers print as integers (``25``, not ``25.0``), as they were written."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _signal(
    key: str, kind: str, types: list[str], target: float, weight: float, **extra: Any
) -> dict[str, Any]:
    if kind == "ratio":
        return {"key": key, "kind": kind, **extra, "target": target, "weight": weight}
    return {"key": key, "kind": kind, "types": types, "target": target, "weight": weight}


DEFAULT_CONFIG: dict[str, Any] = {
    "window_days": 90,
    "half_life_days": 30,
    "custom_event_types": [],
    "pillars": {
        "brand": {
            "max_points": 25,
            "signals": [
                _signal("profile_completeness", "state", ["profile_updated"], 100, 3),
                _signal("posts", "count", ["post_published"], 12, 2),
                _signal("articles", "count", ["article_published"], 2, 1),
                _signal("endorsements", "count", ["endorsement_received", "recommendation_received"], 10, 1),
                _signal("followers", "count", ["follower_gained"], 50, 1),
            ],
        },
        "find": {
            "max_points": 25,
            "signals": [
                _signal("searches", "count", ["people_search"], 30, 2),
                _signal("profile_views", "count", ["profile_viewed"], 60, 2),
                _signal("leads_saved", "count", ["lead_saved"], 20, 1),
                _signal("active_days", "active_days", [], 45, 3),
            ],
        },
        "engage": {
            "max_points": 25,
            "signals": [
                _signal("reactions", "count", ["post_liked"], 60, 1),
                _signal("comments", "count", ["post_commented"], 20, 2),
                _signal("shares", "count", ["post_shared"], 10, 2),
                _signal("messages", "count", ["message_sent"], 40, 1),
                _signal(
                    "response_rate", "ratio", [], 0.8, 2,
                    numerator=["message_replied"], denominator=["message_received"], min_denominator=1,
                ),
                _signal("groups", "count", ["group_joined"], 3, 1),
            ],
        },
        "relationships": {
            "max_points": 25,
            "signals": [
                _signal("connections", "state", ["connections_synced"], 500, 2),
                _signal(
                    "acceptance_rate", "ratio", [], 0.6, 2,
                    numerator=["connection_request_accepted"], denominator=["connection_request_sent"],
                    min_denominator=1,
                ),
                _signal("decision_makers", "count", ["decision_maker_connected"], 20, 2),
            ],
        },
    },
}  # fmt: skip


# --- parsing ------------------------------------------------------------------------


def _object(value: Any, path: str, allowed: set[str], required: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(path or "config", "Must be an object.", "invalid_type")
    for name in value:
        if name not in allowed:
            raise ConfigError(_join(path, str(name)), "Unknown field.", "unknown_field")
    for name in sorted(required):
        if name not in value:
            raise ConfigError(_join(path, name), "This field is required.", "required")
    return value


def _join(path: str, name: str | int) -> str:
    return f"{path}.{name}" if path else str(name)


def _number(value: Any, path: str, *, low: float, high: float | None = None, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(path, "Must be a number.", "invalid_type")
    if (value <= low) if low_open else (value < low):
        raise ConfigError(
            path, f"Must be {'greater than' if low_open else 'at least'} {_num_out(low)}.", "out_of_range"
        )
    if high is not None and value > high:
        raise ConfigError(path, f"Must be at most {_num_out(high)}.", "out_of_range")
    return float(value)


def _integer(value: Any, path: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise ConfigError(path, "Must be a whole number.", "invalid_type")
    if not low <= value <= high:
        raise ConfigError(path, f"Must be between {low} and {high}.", "out_of_range")
    return int(value)


def _types(value: Any, path: str, known: frozenset[str], *, allow_empty: bool) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(path, "Must be a list of event types.", "invalid_type")
    if not value and not allow_empty:
        raise ConfigError(path, "Name at least one event type.", "required")
    out: list[str] = []
    for i, name in enumerate(value):
        if not isinstance(name, str) or name not in known:
            raise ConfigError(_join(path, i), f"Unknown event type {name!r}.", "unknown_event_type")
        if name in out:
            raise ConfigError(_join(path, i), f"{name!r} is listed twice.", "duplicate")
        out.append(name)
    return tuple(out)


def parse_config(data: Any, *, stored: bool = False) -> Config:
    """Validate and parse a config as the API receives it. Raises ConfigError.

    ``stored=True`` reads a saved version: it was valid when it was saved, under bounds that
    may have been wider (``STORED_MAX_SIGNALS_PER_PILLAR``), and a tenant's scoring must not
    stop because a bound was made tighter since.
    """
    root = _object(
        data,
        "",
        # version and created_at are what GET returns: a client may PUT it back unchanged.
        allowed={"window_days", "half_life_days", "custom_event_types", "pillars", "version", "created_at"},
        required={"window_days", "half_life_days", "pillars"},
    )
    window = _integer(root["window_days"], "window_days", low=7, high=365)
    half_life_raw = root["half_life_days"]
    half_life = None if half_life_raw is None else _number(half_life_raw, "half_life_days", low=1, high=365)
    customs = _parse_custom_types(root.get("custom_event_types", []))
    known = frozenset(EVENT_TYPES) | {c.name for c in customs}
    max_signals = STORED_MAX_SIGNALS_PER_PILLAR if stored else MAX_SIGNALS_PER_PILLAR
    pillars = _parse_pillars(root["pillars"], known, max_signals)
    return Config(
        window_days=window,
        half_life_days=half_life,
        pillars=pillars,
        custom_event_types=customs,
    )


def _parse_custom_types(raw_customs: Any) -> tuple[CustomEventType, ...]:
    """The tenant's own event types: new names, each with the XP it earns."""
    customs: list[CustomEventType] = []
    if not isinstance(raw_customs, list):
        raise ConfigError("custom_event_types", "Must be a list.", "invalid_type")
    if len(raw_customs) > MAX_CUSTOM_TYPES:
        raise ConfigError("custom_event_types", f"At most {MAX_CUSTOM_TYPES} custom types.", "too_many")
    for i, item in enumerate(raw_customs):
        path = _join("custom_event_types", i)
        obj = _object(item, path, allowed={"name", "xp"}, required={"name"})
        name = obj["name"]
        if not isinstance(name, str) or not CUSTOM_TYPE_RE.match(name):
            raise ConfigError(
                _join(path, "name"), "Use lowercase letters, digits and underscores (1-64).", "invalid"
            )
        if name in EVENT_TYPES or any(c.name == name for c in customs):
            raise ConfigError(_join(path, "name"), f"{name!r} already exists.", "duplicate")
        xp = _integer(obj.get("xp", 0), _join(path, "xp"), low=0, high=MAX_XP)
        customs.append(CustomEventType(name=name, xp=xp))
    return tuple(customs)


def _parse_pillars(raw: Any, known: frozenset[str], max_signals: int) -> tuple[Pillar, ...]:
    """Every pillar, in catalog order; their ``max_points`` must add up to 100."""
    pillars_raw = _object(raw, "pillars", allowed=set(PILLARS), required=set(PILLARS))
    seen_keys: set[str] = set()  # signal keys are unique across pillars
    pillars = tuple(_parse_pillar(pillars_raw[key], key, known, seen_keys, max_signals) for key in PILLARS)
    total = math.fsum(p.max_points for p in pillars)
    if abs(total - 100) > 1e-9:
        raise ConfigError(
            "pillars",
            f"The pillars' max_points must add up to 100 (they add up to {total:g}).",
            "invalid_total",
        )
    return pillars


def _parse_pillar(
    value: Any, pillar_key: str, known: frozenset[str], seen_keys: set[str], max_signals: int
) -> Pillar:
    ppath = _join("pillars", pillar_key)
    praw = _object(value, ppath, allowed={"max_points", "signals"}, required={"max_points", "signals"})
    max_points = _number(praw["max_points"], _join(ppath, "max_points"), low=0, high=100)
    signals_raw = praw["signals"]
    spath = _join(ppath, "signals")
    if not isinstance(signals_raw, list) or not signals_raw:
        raise ConfigError(spath, "A pillar keeps at least one signal.", "required")
    if len(signals_raw) > max_signals:
        raise ConfigError(spath, f"At most {max_signals} signals.", "too_many")
    signals = tuple(
        _parse_signal(raw, _join(spath, i), known, seen_keys) for i, raw in enumerate(signals_raw)
    )
    return Pillar(key=pillar_key, max_points=max_points, signals=signals)


def _parse_signal(raw: Any, path: str, known: frozenset[str], seen_keys: set[str]) -> Signal:
    base = {"key", "kind", "target", "weight", "tip"}
    obj = _object(
        raw,
        path,
        allowed=base | {"types", "numerator", "denominator", "min_denominator"},
        required={"key", "kind", "target", "weight"},
    )
    key = obj["key"]
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ConfigError(
            _join(path, "key"), "Use lowercase letters, digits and underscores (1-64).", "invalid"
        )
    if key in seen_keys:
        raise ConfigError(_join(path, "key"), f"Signal key {key!r} is used twice.", "duplicate")
    seen_keys.add(key)
    kind = obj["kind"]
    if kind not in KINDS:
        raise ConfigError(_join(path, "kind"), f"Must be one of {', '.join(KINDS)}.", "invalid_choice")
    target = _number(obj["target"], _join(path, "target"), low=0, low_open=True)
    weight = _number(obj["weight"], _join(path, "weight"), low=0, low_open=True)
    tip = obj.get("tip")
    if tip is not None and (not isinstance(tip, str) or len(tip) > 500):
        raise ConfigError(_join(path, "tip"), "Must be a text of at most 500 characters.", "invalid")

    if kind == "ratio":
        for name in ("types",):
            if obj.get(name):
                raise ConfigError(
                    _join(path, name), "A ratio signal uses numerator and denominator.", "unknown_field"
                )
        for name in ("numerator", "denominator"):
            if name not in obj:
                raise ConfigError(_join(path, name), "This field is required.", "required")
        numerator = _types(obj["numerator"], _join(path, "numerator"), known, allow_empty=False)
        denominator = _types(obj["denominator"], _join(path, "denominator"), known, allow_empty=False)
        min_den = _number(obj.get("min_denominator", 1), _join(path, "min_denominator"), low=0, low_open=True)
        return Signal(key, kind, (), target, weight, numerator, denominator, min_den, tip)

    for name in ("numerator", "denominator", "min_denominator"):
        if name in obj:
            raise ConfigError(_join(path, name), f"Only ratio signals take {name}.", "unknown_field")
    if "types" not in obj and kind != "active_days":
        raise ConfigError(_join(path, "types"), "This field is required.", "required")
    types = _types(obj.get("types", []), _join(path, "types"), known, allow_empty=kind == "active_days")
    return Signal(key, kind, types, target, weight, tip=tip)


DEFAULT = parse_config(DEFAULT_CONFIG)
