"""Why a score moved between two days: the deltas in whole cents (docs/scoring.md#why-a-score-moved).

Every figure the API shows is rounded to 2 decimals, so every delta here is the difference of
two shown figures, in whole cents, and never a float subtraction that could print 0.30000000000000004.
"""

from __future__ import annotations

from collections.abc import Mapping

from scoring.engine.ranks import round2


def cents(value: float) -> int:
    """A score as the API shows it (``round2``), in whole cents."""
    return round(round2(value) * 100)


def pillar_deltas(*, ssi_delta: int, exact: Mapping[str, float], shown: Mapping[str, int]) -> dict[str, int]:
    """Each pillar's delta in cents, adding up to ``ssi_delta`` (cents) exactly.

    ``exact``: each pillar's change at full precision, in cents; ``shown``: the difference of
    its two rounded values, in cents. The shown differences are the answer whenever they add
    up to the SSI delta. They may not: a day's rounded SSI can be a cent or two away from the
    sum of its rounded pillars, so the four differences can miss the SSI's by up to four cents.
    Then the missing cents go, one at a time, to the pillar whose delta is furthest short of
    its exact change in that direction (ties: pillar order). Each delta stays strictly within
    one cent of its exact change: while cents are missing upwards, the deltas add up to less
    than the exact changes (the SSI delta is within a cent of their sum), so some pillar is
    below its exact change and can take one more cent without passing it by a whole cent.
    """
    out = dict(shown)
    order = list(out)
    missing = ssi_delta - sum(out.values())
    while missing:
        step = 1 if missing > 0 else -1
        key = max(order, key=lambda p: (step * (exact[p] - out[p]), -order.index(p)))
        out[key] += step
        missing -= step
    return out
