"""Competition ranks among reps (docs/scoring.md#ranks)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Rank:
    rank: int
    of: int
    top_percent: int


def round2(value: float) -> float:
    """The API's 2-decimal rounding, half away from zero, robust to binary noise.

    ``round(2.675, 2)`` is 2.67 in Python because 2.675 is 2.67499999… in
    binary; a score that is meant to be 2.675 must show (and rank) as 2.68.
    Rounding a 12-significant-digit representation first removes that noise.
    """
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(float(f"{value:.12g}"))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def competition_ranks(values: Mapping[K, float]) -> dict[K, Rank]:
    """rank = 1 + number with a strictly higher value (2-decimal rounded);
    top_percent = ceil(100 * rank / n)."""
    rounded = {key: round2(v) for key, v in values.items()}
    ordered = sorted(rounded.values(), reverse=True)
    total = len(ordered)
    first_index: dict[float, int] = {}
    for index, value in enumerate(ordered):
        first_index.setdefault(value, index)
    out: dict[K, Rank] = {}
    for key, value in rounded.items():
        rank = first_index[value] + 1
        out[key] = Rank(rank=rank, of=total, top_percent=math.ceil(100 * rank / total))
    return out
