"""The scoring config as a form, and two versions as a readable diff.

Presentation only: the config's rules are ``scoring.engine.parse_config``'s, reached through
``scoring.services.config``. Here a config's JSON becomes labelled number fields named by
their path in the config (``pillars.brand.signals.1.weight``, the path a validation error
names, so an error finds its field), a form's fields go back into the JSON, and two versions
become lines such as "Posts target: 12 → 5".
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.engine.catalog import PILLAR_NAMES, PILLARS

JSON_FIELD = "config_json"
JSON_BASE_FIELD = "config_json_base"


@dataclass
class Field:
    name: str  # the path in the config
    label: str
    value: str
    help: str = ""
    error: str = ""
    optional: bool = False


@dataclass
class SignalGroup:
    legend: str
    about: str
    fields: list[Field]


@dataclass
class PillarGroup:
    key: str
    legend: str
    fields: list[Field]
    signals: list[SignalGroup] = field(default_factory=list)


def signal_name(key: str) -> str:
    """A signal's readable name: ``profile_views`` -> "Profile views"."""
    return key.replace("_", " ").capitalize() if key else "Signal"


def pillar_name(key: str) -> str:
    return key.capitalize()


def number_text(value: Any) -> str:
    """A number as the form shows it (``25``, ``0.8``); anything else as it was typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float) and math.isfinite(value):
        return str(int(value)) if float(value).is_integer() else f"{value:g}"
    return str(value)


def _signal_about(signal: Mapping[str, Any]) -> str:
    kind = signal.get("kind")
    if kind == "ratio":
        num = ", ".join(map(str, signal.get("numerator") or []))
        den = ", ".join(map(str, signal.get("denominator") or []))
        return f"ratio: {num} per {den}"
    types = ", ".join(map(str, signal.get("types") or []))
    if kind == "active_days":
        return f"active days: {types or 'any event'}"
    return f"{kind}: {types}"


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _signals(pillar: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = pillar.get("signals")
    return [_obj(s) for s in raw] if isinstance(raw, list) else []


def form_groups(config: Any) -> tuple[list[Field], list[PillarGroup]]:
    """The number fields of a config's JSON (read defensively: a draft may be malformed):
    the window and half-life, and per pillar its maximum and each signal's numbers."""
    root = _obj(config)
    general = [
        Field("window_days", "Window (days)", number_text(root.get("window_days"))),
        Field(
            "half_life_days",
            "Half-life (days)",
            number_text(root.get("half_life_days")),
            help="Empty: no decay.",
            optional=True,
        ),
    ]
    pillars = _obj(root.get("pillars"))
    groups = []
    for key in PILLARS:
        pillar = _obj(pillars.get(key))
        base = f"pillars.{key}"
        name = pillar_name(key)
        group = PillarGroup(
            key=key,
            legend=f"{name}: {PILLAR_NAMES[key]}",
            fields=[Field(f"{base}.max_points", f"{name} max points", number_text(pillar.get("max_points")))],
        )
        for i, signal in enumerate(_signals(pillar)):
            label = signal_name(str(signal.get("key", "")))
            path = f"{base}.signals.{i}"
            fields = [
                Field(f"{path}.target", f"{label} target", number_text(signal.get("target"))),
                Field(f"{path}.weight", f"{label} weight", number_text(signal.get("weight"))),
            ]
            if signal.get("kind") == "ratio":
                fields.append(
                    Field(
                        f"{path}.min_denominator",
                        f"{label} minimum denominator",
                        number_text(signal.get("min_denominator", 1)),
                    )
                )
            group.signals.append(SignalGroup(legend=label, about=_signal_about(signal), fields=fields))
        groups.append(group)
    return general, groups


def every_field(config: Any) -> list[Field]:
    general, groups = form_groups(config)
    return general + [f for g in groups for f in g.fields + [f for s in g.signals for f in s.fields]]


def parse_number(text: str, *, optional: bool) -> Any:
    """A typed number as JSON would hold it; what is not a number stays text, so the config's
    own validation names it ("Must be a number.") at its field."""
    text = text.strip()
    if text == "" and optional:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def _set_path(data: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = data
    try:
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, dict):
            node[last] = value
    except (KeyError, IndexError, TypeError, ValueError):
        return  # a malformed draft: its own validation names what is missing


def draft_with_fields(base: Any, entered: Mapping[str, str]) -> Any:
    """``base`` (a config's JSON) with the form's numbers put in at their paths."""
    draft = copy.deepcopy(base)
    for f in every_field(base):
        if f.name in entered:
            _set_path(draft, f.name, parse_number(entered[f.name], optional=f.optional))
    return draft


def json_text(config: Any) -> str:
    return json.dumps(config, indent=2, ensure_ascii=False)


# --- diff ---------------------------------------------------------------------------------------


def _show(value: Any, *, nullable: str = "none") -> str:
    if value is None:
        return nullable
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    return number_text(value)


def _change(label: str, old: Any, new: Any, **kw: str) -> list[str]:
    return [] if old == new else [f"{label}: {_show(old, **kw)} → {_show(new, **kw)}"]


SIGNAL_PARTS = (
    ("target", "target"),
    ("weight", "weight"),
    ("min_denominator", "minimum denominator"),
    ("kind", "kind"),
    ("types", "event types"),
    ("numerator", "numerator"),
    ("denominator", "denominator"),
    ("tip", "tip"),
)


def config_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What changed from one stored config to the next, one readable line per change."""
    lines = _change("Window (days)", old.get("window_days"), new.get("window_days"))
    lines += _change(
        "Half-life (days)", old.get("half_life_days"), new.get("half_life_days"), nullable="none (no decay)"
    )
    for key in PILLARS:
        before, after = _obj(_obj(old.get("pillars")).get(key)), _obj(_obj(new.get("pillars")).get(key))
        name = pillar_name(key)
        lines += _change(f"{name} max points", before.get("max_points"), after.get("max_points"))
        old_signals = {s.get("key"): s for s in _signals(before)}
        new_signals = {s.get("key"): s for s in _signals(after)}
        for skey, signal in new_signals.items():
            label = signal_name(str(skey))
            if skey not in old_signals:
                lines.append(
                    f"{name}: signal {label} added ({_signal_about(signal)}; target "
                    f"{_show(signal.get('target'))}, weight {_show(signal.get('weight'))})"
                )
                continue
            for part, words in SIGNAL_PARTS:
                lines += _change(f"{label} {words}", old_signals[skey].get(part), signal.get(part))
        lines += [
            f"{name}: signal {signal_name(str(k))} removed" for k in old_signals if k not in new_signals
        ]
    old_types = {c.get("name"): c.get("xp") for c in map(_obj, old.get("custom_event_types") or [])}
    new_types = {c.get("name"): c.get("xp") for c in map(_obj, new.get("custom_event_types") or [])}
    for type_name, xp in new_types.items():
        if type_name not in old_types:
            lines.append(f"Custom event type {type_name} added ({_show(xp)} XP)")
        else:
            lines += _change(f"Custom event type {type_name} XP", old_types[type_name], xp)
    lines += [f"Custom event type {n} removed" for n in old_types if n not in new_types]
    return lines
