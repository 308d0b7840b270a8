"""The metric language and criteria trees of badges and goals (docs/gamification.md#the-metric-language).

A tree is ``{"all": [...]}``, ``{"any": [...]}`` or a leaf
``{"metric": M, "op": ">=", "value": 5, "window_days": 30?}``. Validation
names the offending path (``criteria.all.1.op``). Evaluation takes a lookup
of metric values; a metric with no value (no snapshot yet, say) makes its
leaf false, so ``rank.top_percent <= 10`` is never true for an unranked rep.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.engine.errors import PathError

MAX_DEPTH = 5
MAX_WINDOW_DAYS = 3660
MAX_CHILDREN = 50
# The size of new criteria (a stored tree is read as it was saved). Each condition may add a
# sum to the query that evaluates every badge at once, each distinct window a range of days.
MAX_CONDITIONS = 20
MAX_WINDOWS = 8

OPS: Mapping[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
PILLAR_METRICS = ("pillar.brand", "pillar.find", "pillar.engage", "pillar.relationships")
SCORE_METRICS = ("ssi", *PILLAR_METRICS, "rank.top_percent", "rank.team_top_percent")
STREAK_METRICS = ("streak.current", "streak.longest")
PLAIN_METRICS = frozenset({*SCORE_METRICS, *STREAK_METRICS, "xp", "level", "badges", "goals.achieved"})
TYPED_PREFIXES = ("events.", "sum.", "state.")
WINDOWED_PREFIXES = ("events.", "sum.")
# Metrics that change when events are ingested (badges using only these are
# evaluated within seconds of an ingestion, not just nightly).
INGEST_TIME_PREFIXES = ("events.", "sum.", "state.", "xp", "level", "streak.")
TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")  # \Z: "$" would let "type\n" through


class CriteriaError(PathError):
    """An invalid criteria tree or metric."""


@dataclass(frozen=True)
class MetricRef:
    name: str
    window_days: int | None = None

    @property
    def type(self) -> str | None:
        for prefix in TYPED_PREFIXES:
            if self.name.startswith(prefix):
                return self.name[len(prefix) :]
        return None


@dataclass(frozen=True)
class Leaf:
    metric: MetricRef
    op: str
    value: float


@dataclass(frozen=True)
class Group:
    mode: str  # "all" | "any"
    children: tuple[Leaf | Group, ...]


Criteria = Leaf | Group


def validate_metric(name: Any, window_days: Any, *, known_types: frozenset[str], path: str) -> MetricRef:
    if not isinstance(name, str):
        raise CriteriaError(f"{path}.metric", "Must be a metric name.", "invalid_type")
    window: int | None = None
    if window_days is not None:
        if not name.startswith(WINDOWED_PREFIXES):
            raise CriteriaError(f"{path}.window_days", "Only events.* and sum.* take a window.", "invalid")
        if (
            isinstance(window_days, bool)
            or not isinstance(window_days, int)
            or not 1 <= window_days <= MAX_WINDOW_DAYS
        ):
            raise CriteriaError(
                f"{path}.window_days", f"A whole number of days, 1 to {MAX_WINDOW_DAYS}.", "invalid"
            )
        window = window_days
    if name in PLAIN_METRICS:
        return MetricRef(name, window)
    for prefix in TYPED_PREFIXES:
        if name.startswith(prefix):
            type_name = name[len(prefix) :]
            if type_name not in known_types:
                raise CriteriaError(f"{path}.metric", f"Unknown event type {type_name!r}.", "unknown_metric")
            return MetricRef(name, window)
    raise CriteriaError(f"{path}.metric", f"Unknown metric {name[:80]!r}.", "unknown_metric")


@dataclass
class _Size:
    """The conditions and windows of a tree being parsed: over a bound, parsing stops there,
    before the rest of a large tree is read."""

    path: str
    bounded: bool
    conditions: int = 0
    windows: set[int] = field(default_factory=set)

    def add(self, metric: MetricRef) -> None:
        self.conditions += 1
        if metric.window_days is not None:
            self.windows.add(metric.window_days)
        if not self.bounded:
            return
        if self.conditions > MAX_CONDITIONS:
            raise CriteriaError(
                self.path, f"At most {MAX_CONDITIONS} conditions in all.", "too_many_conditions"
            )
        if len(self.windows) > MAX_WINDOWS:
            raise CriteriaError(
                self.path, f"At most {MAX_WINDOWS} different window_days in all.", "too_many_windows"
            )


def parse_criteria(
    data: Any, *, known_types: frozenset[str], path: str = "criteria", stored: bool = False
) -> Criteria:
    """Validate and parse a criteria tree. Raises CriteriaError naming the path.

    New criteria hold at most ``MAX_CONDITIONS`` conditions and ``MAX_WINDOWS`` different
    windows (the error names the whole tree). A stored tree (``stored=True``) was valid when
    it was saved and is read without them: a bound made tighter never stops a badge a tenant
    has (the evaluation copes with any size, ``gamification.services.metrics``).
    """
    return _parse_node(data, known_types, path, 1, _Size(path, bounded=not stored))


def _parse_node(data: Any, known_types: frozenset[str], path: str, depth: int, size: _Size) -> Criteria:
    """One node of a tree: a group and what it holds, or a condition."""
    if depth > MAX_DEPTH:
        raise CriteriaError(path, f"The tree is deeper than {MAX_DEPTH} levels.", "too_deep")
    if not isinstance(data, Mapping):
        raise CriteriaError(
            path, "Must be an object: {all: [...]}, {any: [...]} or a metric condition.", "invalid_type"
        )
    groups = [key for key in ("all", "any") if key in data]
    if groups:
        if len(data) != 1:
            extra = sorted(str(k) for k in data if k != groups[0])[0]
            raise CriteriaError(f"{path}.{extra}", "A group has only 'all' or 'any'.", "unknown_field")
        mode = groups[0]
        items = data[mode]
        if not isinstance(items, list) or not items:
            raise CriteriaError(f"{path}.{mode}", "A non-empty list of conditions.", "invalid_type")
        if len(items) > MAX_CHILDREN:
            raise CriteriaError(f"{path}.{mode}", f"At most {MAX_CHILDREN} conditions.", "too_many")
        children = tuple(
            _parse_node(item, known_types, f"{path}.{mode}.{i}", depth + 1, size)
            for i, item in enumerate(items)
        )
        return Group(mode, children)
    for key in data:
        if key not in ("metric", "op", "value", "window_days"):
            raise CriteriaError(f"{path}.{key}", "Unknown field.", "unknown_field")
    for key in ("metric", "op", "value"):
        if key not in data:
            raise CriteriaError(f"{path}.{key}", "This field is required.", "required")
    if "window_days" in data and data["window_days"] is None and size.bounded:
        # Leave it out for no window: null is not a number of days (as the API's schema says).
        raise CriteriaError(
            f"{path}.window_days", f"A whole number of days, 1 to {MAX_WINDOW_DAYS}.", "invalid"
        )
    metric = validate_metric(data["metric"], data.get("window_days"), known_types=known_types, path=path)
    size.add(metric)
    op = data["op"]
    if not isinstance(op, str) or op not in OPS:
        raise CriteriaError(f"{path}.op", f"Must be one of {', '.join(OPS)}.", "invalid_choice")
    value = data["value"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CriteriaError(f"{path}.value", "Must be a number.", "invalid_type")
    return Leaf(metric, op, float(value))


def to_dict(criteria: Criteria) -> dict[str, Any]:
    if isinstance(criteria, Group):
        return {criteria.mode: [to_dict(child) for child in criteria.children]}
    out: dict[str, Any] = {"metric": criteria.metric.name, "op": criteria.op, "value": _num(criteria.value)}
    if criteria.metric.window_days is not None:
        out["window_days"] = criteria.metric.window_days
    return out


def _num(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def leaves(criteria: Criteria) -> Iterator[Leaf]:
    if isinstance(criteria, Leaf):
        yield criteria
    else:
        for child in criteria.children:
            yield from leaves(child)


def metrics_needed(criteria: Criteria) -> frozenset[MetricRef]:
    return frozenset(leaf.metric for leaf in leaves(criteria))


def is_ingest_time(criteria: Criteria) -> bool:
    """True when every metric can change at ingestion (and none needs the nightly scores)."""
    return all(leaf.metric.name.startswith(INGEST_TIME_PREFIXES) for leaf in leaves(criteria))


def evaluate(criteria: Criteria, value_of: Callable[[MetricRef], float | None]) -> bool:
    if isinstance(criteria, Leaf):
        value = value_of(criteria.metric)
        return value is not None and OPS[criteria.op](value, criteria.value)
    results = (evaluate(child, value_of) for child in criteria.children)
    return all(results) if criteria.mode == "all" else any(results)
