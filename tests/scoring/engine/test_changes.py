"""The deltas of ``/ssi/changes`` in whole cents (scoring.engine.changes): no database."""

from __future__ import annotations

import random

from scoring.engine.changes import cents, pillar_deltas

PILLARS = ("brand", "find", "engage", "relationships")


def test_cents_are_the_shown_figure_rounded_half_away_from_zero() -> None:
    assert cents(9.375) == 938
    assert cents(2.675) == 268  # 2.67499999... in binary, shown 2.68
    assert cents(0.004) == 0


def test_the_shown_differences_stand_when_they_add_up() -> None:
    shown = {"brand": 104, "find": 21, "engage": 0, "relationships": 0}
    exact = {"brand": 104.17, "find": 20.83, "engage": 0.0, "relationships": 0.0}
    assert pillar_deltas(ssi_delta=125, exact=exact, shown=shown) == shown


def test_missing_cents_go_to_the_pillars_furthest_from_their_exact_change() -> None:
    # Day 1: each pillar 0.004 (shown 0.00), SSI 0.016 (shown 0.02); day 2: all zero.
    # The SSI fell 0.02 though no pillar shows a change: two cents to take, each from the
    # pillar furthest above its exact change (-0.4 cents each: a tie, in pillar order).
    exact = {p: -0.4 for p in PILLARS}
    shown = dict.fromkeys(PILLARS, 0)
    assert pillar_deltas(ssi_delta=-2, exact=exact, shown=shown) == {
        "brand": -1,
        "find": -1,
        "engage": 0,
        "relationships": 0,
    }
    # Not a tie: the one furthest off takes the cent.
    exact = {"brand": -0.1, "find": -0.2, "engage": -0.45, "relationships": -0.3}
    assert pillar_deltas(ssi_delta=-1, exact=exact, shown=shown)["engage"] == -1


def test_on_random_days_the_pillars_add_up_to_the_ssi_and_stay_within_a_cent() -> None:
    rng = random.Random(7)
    adjusted = 0
    for _ in range(20_000):
        before = {p: rng.uniform(0, 25) for p in PILLARS}
        after = {p: rng.choice([before[p], rng.uniform(0, 25)]) for p in PILLARS}
        ssi_delta = cents(sum(after.values())) - cents(sum(before.values()))
        exact = {p: (after[p] - before[p]) * 100 for p in PILLARS}
        shown = {p: cents(after[p]) - cents(before[p]) for p in PILLARS}
        out = pillar_deltas(ssi_delta=ssi_delta, exact=exact, shown=shown)
        assert sum(out.values()) == ssi_delta
        assert all(abs(out[p] - exact[p]) < 1 for p in PILLARS), (before, after, out)
        adjusted += out != shown
        # A pillar that did not move never takes a cent.
        assert all(out[p] == 0 for p in PILLARS if after[p] == before[p])
    assert adjusted > 100  # the rounding case is common, not hypothetical
