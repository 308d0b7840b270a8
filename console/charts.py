"""Charts of the console pages, as data a template renders twice: drawn by uPlot
(``static/console/charts.js``, from the npm package) and as a table of the same numbers, the
chart's text alternative. Sparklines are drawn on the server as SVG, with a label in words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class LineChart:
    """A chart over days. ``id`` is unique in the page; ``range`` fixes the y axis (SSI: 0-100)."""

    id: str
    title: str
    days: Sequence[date]
    series: Sequence[Series]
    range: tuple[float, float] | None = None

    @property
    def data_id(self) -> str:
        return f"{self.id}-data"

    @property
    def payload(self) -> dict[str, object]:
        """What ``charts.js`` reads from the page (a ``json_script``)."""
        return {
            "x": [day.isoformat() for day in self.days],
            "series": [{"label": s.label, "values": list(s.values)} for s in self.series],
            "range": list(self.range) if self.range else None,
        }

    @property
    def rows(self) -> list[tuple[date, list[float | None]]]:
        """The table behind the chart: one row per day, one column per series."""
        return [(day, [s.values[i] for s in self.series]) for i, day in enumerate(self.days)]


@dataclass(frozen=True)
class Sparkline:
    """A small line of values (oldest first) as SVG points in a 100 x 24 box, and its words."""

    points: str
    label: str


def sparkline(
    values: Sequence[float | None], *, what: str = "SSI", low: float = 0, high: float = 100
) -> Sparkline:
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return Sparkline(points="", label=f"No {what} history")
    span = max(len(values) - 1, 1)
    height = high - low or 1
    points = " ".join(f"{100 * i / span:.1f},{24 - 24 * (v - low) / height:.1f}" for i, v in known)
    first, last = known[0][1], known[-1][1]
    return Sparkline(points=points, label=f"{what} over {len(values)} days: from {first:.2f} to {last:.2f}")
