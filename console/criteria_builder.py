"""The console's criteria builder: a badge's criteria tree as form rows, and back.

The builder shows what most badges need: one way to combine ("all" or "any") and a list of
conditions (metric, operator, value, window). A tree of that shape goes to rows and back
unchanged (one condition is saved as a bare condition, as the default badges are); a deeper
tree is edited as JSON. Nothing here validates a tree: the badge service does
(``gamification.services.badges``), and its errors, which name a path such as
``criteria.all.1.op``, are placed next to the row and field they name (``error_place``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gamification.rules.criteria import (
    MAX_CONDITIONS,
    PILLAR_METRICS,
    STREAK_METRICS,
)

OPERATORS = (
    (">=", "≥ at least"),
    (">", "> more than"),
    ("<=", "≤ at most"),
    ("<", "< less than"),
    ("==", "= exactly"),
)
SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}
COMBINE = (("all", "all of the conditions"), ("any", "any of the conditions"))
MIN_ROWS = 3
PATH_FIELDS = {"metric": "metric", "op": "op", "value": "value", "window_days": "window"}
ROW_PATH = re.compile(r"^criteria(?:\.(?:all|any)\.(\d+))?\.(metric|op|value|window_days)$")


@dataclass
class Row:
    """One condition as the form shows it: every field as text, and its errors by field."""

    metric: str = ""
    op: str = ">="
    value: str = ""
    window: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not (self.metric or self.value.strip() or self.window.strip())


@dataclass
class Builder:
    """The builder's state: how conditions combine and the rows shown (blank ones included)."""

    combine: str = "all"
    rows: list[Row] = field(default_factory=list)
    # Set when the tree cannot be shown as rows (a nested group): it is edited as JSON.
    too_deep: bool = False
    error: str = ""  # an error about the whole tree (too many conditions, none at all)

    def padded(self, extra: int = 0) -> Builder:
        """The same builder with blank rows added up to ``MIN_ROWS`` (and ``extra`` more)."""
        wanted = min(MAX_CONDITIONS, max(MIN_ROWS, len(self.rows) + extra))
        rows = self.rows + [Row() for _ in range(wanted - len(self.rows))]
        return Builder(combine=self.combine, rows=rows, too_deep=self.too_deep, error=self.error)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def builder_from_criteria(criteria: Any) -> Builder:
    """Rows for a stored tree: a condition is one row; a group of conditions, its rows."""
    if isinstance(criteria, Mapping) and len(criteria) == 1 and next(iter(criteria)) in ("all", "any"):
        mode = next(iter(criteria))
        children = criteria[mode]
        if isinstance(children, list) and all(_is_condition(c) for c in children):
            return Builder(combine=mode, rows=[_row(c) for c in children])
        return Builder(combine=mode, too_deep=True)
    if _is_condition(criteria):
        return Builder(rows=[_row(criteria)])
    return Builder(too_deep=True)


def _is_condition(node: Any) -> bool:
    return isinstance(node, Mapping) and "metric" in node and not ({"all", "any"} & set(node))


def _row(node: Mapping[str, Any]) -> Row:
    window = node.get("window_days")
    return Row(
        metric=str(node.get("metric", "")),
        op=str(node.get("op", ">=")),
        value=_number(node.get("value", "")),
        window="" if window is None else _number(window),
    )


def builder_from_form(form: Mapping[str, str], *, remove: int | None = None) -> Builder:
    """The builder as a form posted it (``c-<i>-metric`` …), without row ``remove``."""
    try:
        count = min(MAX_CONDITIONS, max(0, int(form.get("rows", MIN_ROWS))))
    except ValueError:
        count = MIN_ROWS

    def text(i: int, name: str) -> str:
        return form.get(f"c-{i}-{name}", "").strip()

    rows = [
        Row(metric=text(i, "metric"), op=text(i, "op"), value=text(i, "value"), window=text(i, "window"))
        for i in range(count)
        if i != remove
    ]
    combine = form.get("combine", "all")
    return Builder(combine=combine if combine in ("all", "any") else "all", rows=rows)


def criteria_from_builder(builder: Builder) -> tuple[Any, list[int]]:
    """The tree the rows say, and which row each of its conditions came from.

    A value or window that is not a number is passed on as its text: the service refuses
    it with its own message, next to that field. One condition is a bare condition."""
    conditions: list[dict[str, Any]] = []
    origin: list[int] = []
    for index, row in enumerate(builder.rows):
        if row.blank:
            continue
        condition: dict[str, Any] = {"metric": row.metric, "op": row.op, "value": _parsed(row.value)}
        if row.window:
            condition["window_days"] = _parsed(row.window)
        conditions.append(condition)
        origin.append(index)
    if len(conditions) == 1:
        return conditions[0], origin
    return {builder.combine: conditions}, origin


def _parsed(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def error_place(attr: str | None, origin: list[int]) -> tuple[int, str] | None:
    """The (row, field) a service error's path names, or None for the tree as a whole."""
    match = ROW_PATH.match(attr or "")
    if not match:
        return None
    position = int(match.group(1) or 0)
    if position >= len(origin):
        return None
    return origin[position], PATH_FIELDS[match.group(2)]


def criteria_json(criteria: Any) -> str:
    """A tree as the JSON box shows it."""
    return json.dumps(criteria, indent=2, ensure_ascii=False)


def same_json_text(a: str, b: str) -> bool:
    """Whether two texts of the JSON box differ only by white space (a browser may change
    the line ends of a textarea)."""
    return "".join(a.split()) == "".join(b.split())


def criteria_words(criteria: Any) -> str:
    """A tree in words: ``events.post_published ≥ 5 in 7 days and ssi ≥ 70``."""
    if isinstance(criteria, Mapping):
        for mode, joiner in (("all", " and "), ("any", " or ")):
            if mode in criteria and isinstance(criteria[mode], list):
                parts = [criteria_words(child) for child in criteria[mode]]
                nested = [f"({p})" if " and " in p or " or " in p else p for p in parts]
                return joiner.join(nested)
        if "metric" in criteria:
            words = (
                f"{criteria['metric']} {SYMBOLS.get(str(criteria.get('op')), criteria.get('op'))} "
                f"{_number(criteria.get('value'))}"
            )
            window = criteria.get("window_days")
            if window is not None:
                words += f" in {_number(window)} day{'' if window == 1 else 's'}"
            return words
    return json.dumps(criteria)


def metrics_in(criteria: Any) -> list[str]:
    """The metric names a tree (valid or not) mentions."""
    if isinstance(criteria, Mapping):
        found = [str(criteria["metric"])] if "metric" in criteria else []
        for mode in ("all", "any"):
            if isinstance(criteria.get(mode), list):
                found += [m for child in criteria[mode] for m in metrics_in(child)]
        return found
    return []


@dataclass(frozen=True)
class MetricGroup:
    label: str
    metrics: tuple[str, ...]


def metric_groups(event_types: Iterable[str], *, keep: Iterable[str] = ()) -> list[MetricGroup]:
    """The metrics a condition or a goal may name, grouped for a select: the scores, streaks
    and totals, then each event type counted, summed and as its latest value. ``keep``:
    metrics in use that the list would miss (a custom type removed since), kept so that
    saving a form again does not change them silently."""
    types = sorted(event_types)
    groups = [
        MetricGroup("Scores", ("ssi", *PILLAR_METRICS, "rank.top_percent", "rank.team_top_percent")),
        MetricGroup("Streaks and totals", (*STREAK_METRICS, "xp", "level", "badges", "goals.achieved")),
        MetricGroup("Events counted (a window may apply)", tuple(f"events.{t}" for t in types)),
        MetricGroup("Event values summed (a window may apply)", tuple(f"sum.{t}" for t in types)),
        MetricGroup("Latest value of an event type", tuple(f"state.{t}" for t in types)),
    ]
    known = {m for g in groups for m in g.metrics}
    other = tuple(sorted({m for m in keep if m and m not in known}))
    if other:
        groups.append(MetricGroup("In use", other))
    return groups
