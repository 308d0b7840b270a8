"""The results of a run: its rows, the table printed at the end and ``bench/results.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from config.embedded import BASE_DIR

RESULTS = BASE_DIR / "bench" / "results.json"
RIGHT_ALIGNED = {1, 3, 4}  # value, baseline, ratio


@dataclass
class Row:
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str | None = None
    ok: bool | None = None


def rounded(value: float | None, digits: int = 3) -> float | None:
    if value is None:
        return None
    return float(f"{value:.{digits}g}") if abs(value) < 10 ** (digits - 1) else float(round(value))


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows: list[Row]) -> str:
    header = ("name", "value", "unit", "baseline", "ratio", "target", "ok")
    lines = [
        (r.name, _fmt(r.value), r.unit, _fmt(r.baseline), _fmt(r.ratio), r.target or "",
         "" if r.ok is None else ("yes" if r.ok else "NO"))
        for r in rows
    ]  # fmt: skip
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)
    ]

    def render(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in RIGHT_ALIGNED else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [render(header), "  ".join("-" * w for w in widths)]
    out += [render(line) for line in lines]
    return "\n".join(out)


def write_results(rows: list[Row]) -> None:
    data = []
    for row in rows:
        item = asdict(row)
        for name in ("value", "baseline", "ratio"):
            item[name] = rounded(item[name], 4)
        data.append(item)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
