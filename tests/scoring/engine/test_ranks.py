"""Competition ranks and 2-decimal rounding (docs/scoring.md#ranks)."""

from __future__ import annotations

from scoring.engine import Rank, competition_ranks, round2


def test_ties_share_a_rank_and_the_next_rank_is_skipped() -> None:
    ranks = competition_ranks({"ann": 90, "bob": 80, "cid": 80, "dee": 70})
    assert {k: r.rank for k, r in ranks.items()} == {"ann": 1, "bob": 2, "cid": 2, "dee": 4}
    assert {r.of for r in ranks.values()} == {4}


def test_top_percent_is_the_ceiling_of_rank_share() -> None:
    ranks = competition_ranks({"ann": 90, "bob": 80, "cid": 80, "dee": 70})
    assert ranks["ann"].top_percent == 25  # ceil(100 * 1 / 4)
    assert ranks["bob"].top_percent == 50  # ceil(100 * 2 / 4)
    assert ranks["cid"].top_percent == 50
    assert ranks["dee"].top_percent == 100  # ceil(100 * 4 / 4)


def test_top_percent_rounds_up() -> None:
    ranks = competition_ranks({"ann": 90, "bob": 80, "cid": 70})
    assert ranks["ann"] == Rank(rank=1, of=3, top_percent=34)  # ceil(33.33...)
    assert ranks["bob"] == Rank(rank=2, of=3, top_percent=67)  # ceil(66.66...)
    assert ranks["cid"] == Rank(rank=3, of=3, top_percent=100)  # ceil(100 * 3 / 3)


def test_input_order_does_not_matter() -> None:
    ranks = competition_ranks({"dee": 70, "cid": 80, "ann": 90, "bob": 80})
    assert {k: r.rank for k, r in ranks.items()} == {"ann": 1, "bob": 2, "cid": 2, "dee": 4}


def test_values_that_round_to_the_same_two_decimals_tie() -> None:
    ranks = competition_ranks({"ann": 70.004, "bob": 70.001})  # both show as 70.00
    assert ranks["ann"] == ranks["bob"] == Rank(rank=1, of=2, top_percent=50)  # ceil(100 * 1 / 2)


def test_a_difference_that_shows_after_rounding_decides() -> None:
    ranks = competition_ranks({"ann": 70.004, "bob": 70.006})  # 70.00 and 70.01
    assert ranks["bob"] == Rank(rank=1, of=2, top_percent=50)
    assert ranks["ann"] == Rank(rank=2, of=2, top_percent=100)


def test_zero_scores_rank_together_last() -> None:
    ranks = competition_ranks({"ann": 12.5, "bob": 0.0, "cid": 0.0})
    assert ranks["bob"] == ranks["cid"] == Rank(rank=2, of=3, top_percent=67)  # ceil(100 * 2 / 3)


def test_a_single_rep_is_first_of_one_in_the_top_100_percent() -> None:
    assert competition_ranks({"ann": 0.0}) == {"ann": Rank(rank=1, of=1, top_percent=100)}
    assert competition_ranks({"ann": 55.5}) == {"ann": Rank(rank=1, of=1, top_percent=100)}


def test_no_reps_no_ranks() -> None:
    assert competition_ranks({}) == {}


def test_round2_rounds_a_written_half_up() -> None:
    assert round2(2.675) == 2.68  # round(2.675, 2) is 2.67 because of binary noise


def test_round2_of_ordinary_values() -> None:
    assert round2(70.004) == 70.0
    assert round2(70.006) == 70.01
    assert round2(33.394097222) == 33.39
    assert round2(100.0) == 100.0
    assert round2(0.0) == 0.0
    assert round2(10.234375 + 425 / 48 + 50 / 9 + 8.75) == 33.39  # 33.3940972...
