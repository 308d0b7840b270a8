"""Signals, pillars and SSI of many reps at once.

The rules: docs/scoring.md#signals and docs/scoring.md#from-signals-to-pillars-and-the-ssi.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from scoring.engine.aggregate import EMPTY, Latest, RepAggregates
from scoring.engine.catalog import DEFAULT_TIPS, GENERIC_TIPS
from scoring.engine.config import Config, Pillar, Signal

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class SignalResult:
    pillar: str
    key: str
    kind: str
    x: float  # the raw value: decayed count, state value, num/den, or active days
    n: float  # normalized to [0, 1]
    weight: float
    points: float  # max_points * weight * n / sum of the pillar's weights
    gain: float  # max_points * weight * (1 - n) / sum of the pillar's weights
    num: float | None = None  # ratio signals only
    den: float | None = None


@dataclass(frozen=True)
class RepScore:
    pillars: Mapping[str, float]
    ssi: float
    signals: tuple[SignalResult, ...]


@dataclass(frozen=True)
class Recommendation:
    pillar: str
    key: str
    gain: float
    tip: str


def _sum(values: Mapping[str, float], types: tuple[str, ...]) -> float:
    if len(types) == 1:
        # The same as fsum of one value, which only turns -0.0 into 0.0 (as ``+ 0.0`` does).
        return values.get(types[0], 0.0) + 0.0
    return math.fsum([values.get(t, 0.0) for t in types])


def _latest(latest: Mapping[str, Latest], types: tuple[str, ...]) -> float:
    found = [latest[t] for t in types if t in latest]
    return max(found).value if found else 0.0


def signal_value(signal: Signal, agg: RepAggregates) -> tuple[float, float, float | None, float | None]:
    """(x, n, num, den) of one signal."""
    if signal.kind == "count":
        x = _sum(agg.decayed, signal.types)
        return x, min(1.0, x / signal.target), None, None
    if signal.kind == "state":
        x = _latest(agg.latest, signal.types)
        return x, min(1.0, x / signal.target), None, None
    if signal.kind == "ratio":
        num = _sum(agg.raw, signal.numerator)
        den = _sum(agg.raw, signal.denominator)
        if den >= signal.min_denominator and den > 0:
            x = num / den
            return x, min(1.0, x / signal.target), num, den
        return (num / den if den > 0 else 0.0), 0.0, num, den
    if signal.kind == "active_days":
        x = float(agg.active_days.get(frozenset(signal.types), 0))
        return x, min(1.0, x / signal.target), None, None
    raise ValueError(f"unknown signal kind {signal.kind!r}")


def score_rep(config: Config, agg: RepAggregates) -> RepScore:
    pillars: dict[str, float] = {}
    results: list[SignalResult] = []
    for pillar in config.pillars:
        pillars[pillar.key] = _score_pillar(pillar, agg, results)
    return RepScore(pillars=pillars, ssi=math.fsum(pillars.values()), signals=tuple(results))


def score_totals(config: Config, agg: RepAggregates) -> RepScore:
    """``score_rep``'s pillars and SSI, by the same arithmetic (the same function), without
    the per-signal breakdown (``signals`` is empty): what a recompute stores."""
    pillars = {pillar.key: _score_pillar(pillar, agg, None) for pillar in config.pillars}
    return RepScore(pillars=pillars, ssi=math.fsum(pillars.values()), signals=())


def _score_pillar(pillar: Pillar, agg: RepAggregates, results: list[SignalResult] | None) -> float:
    """The pillar's points; each signal's breakdown is appended to ``results`` unless None."""
    weight_sum = pillar.weight_sum
    weighted: list[float] = []
    for signal in pillar.signals:
        x, n, num, den = signal_value(signal, agg)
        weighted.append(signal.weight * n)
        if results is None:
            continue
        results.append(
            SignalResult(
                pillar=pillar.key,
                key=signal.key,
                kind=signal.kind,
                x=x,
                n=n,
                weight=signal.weight,
                points=pillar.max_points * signal.weight * n / weight_sum,
                gain=pillar.max_points * signal.weight * (1.0 - n) / weight_sum,
                num=num,
                den=den,
            )
        )
    return pillar.max_points * math.fsum(weighted) / weight_sum


def score_reps(
    config: Config, aggregates: Mapping[K, RepAggregates], reps: list[K], *, signals: bool = True
) -> dict[K, RepScore]:
    """Score every rep in ``reps``; a rep with no aggregates scores as zero activity.

    ``signals=False`` leaves out the per-signal breakdown (``score_totals``): the same
    pillars and SSI, without building explanations a recompute would not store.
    """
    score = score_rep if signals else score_totals
    return {rep: score(config, aggregates.get(rep, EMPTY)) for rep in reps}


def recommendations(config: Config, score: RepScore, *, limit: int = 3) -> list[Recommendation]:
    """The signals with the largest gain; ties in pillar order, then signal order."""
    order = {(p.key, s.key): i for i, (p, s) in enumerate(config.signals)}
    signals = {s.key: s for _, s in config.signals}
    # Gains equal in exact arithmetic may differ in the last bits (7.5 vs
    # 7.500000000000001): compare at 9 decimals so the spec's tie order holds.
    ranked = sorted(score.signals, key=lambda r: (-round(r.gain, 9), order[(r.pillar, r.key)]))
    return [
        Recommendation(pillar=r.pillar, key=r.key, gain=r.gain, tip=tip_for(signals[r.key]))
        for r in ranked[:limit]
    ]


def tip_for(signal: Signal) -> str:
    if signal.tip:
        return signal.tip
    if signal.key in DEFAULT_TIPS:
        return DEFAULT_TIPS[signal.key]
    return GENERIC_TIPS[signal.kind].format(
        types=", ".join(signal.types) or "any activity",
        numerator=", ".join(signal.numerator),
        denominator=", ".join(signal.denominator),
    )
