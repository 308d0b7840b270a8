"""The what-if summary of a preview: reps that change, the largest moves, bands before and after.
Plain rows in, no database."""

from __future__ import annotations

from datetime import date

from scoring.services.preview_summary import Move, band_of, preview_summarize

DAY = date(2026, 3, 10)


def test_bands_follow_the_ssi_as_shown_with_2_decimals() -> None:
    assert [band_of(v) for v in (70.0, 69.995, 69.994, 40.0, 39.994, 0.0)] == [
        "good", "good", "okay", "okay", "poor", "poor",
    ]  # fmt: skip


def test_the_summary_counts_changes_ranks_before_and_the_largest_moves_first() -> None:
    rows = [
        # rep, SSI under the draft, rank under the draft, SSI stored that day
        ("amy", 75.0, 1, 65.0),  # +10, rank 1 -> 1, okay -> good
        ("ben", 50.0, 2, 50.0),  # no SSI change, rank 2 -> 2
        ("cat", 30.0, 3, 55.0),  # -25, rank 2 (tied before? no: 55 > 50) -> 3
        ("dan", 20.0, 4, None),  # new since the day: no "before"
        ("eve", 10.0, 5, 10.0),  # unchanged, rank 4 -> 5: a rank change only
    ]
    summary = preview_summarize(day=DAY, rows=rows)
    assert (summary.reps, summary.changed, summary.unscored) == (5, 4, 1)
    # Ranks before among the reps scored that day: amy 65 (1), cat 55 (2), ben 50 (3), eve 10 (4).
    assert summary.moves == (
        Move("cat", 55.0, 30.0, -25.0, 2, 3),
        Move("amy", 65.0, 75.0, 10.0, 1, 1),
    )
    assert summary.bands_before == {"good": 0, "okay": 3, "poor": 1}
    assert summary.bands_after == {"good": 1, "okay": 1, "poor": 3}


def test_only_the_top_moves_are_listed_and_ties_read_by_rep() -> None:
    rows = [(f"r{i:02}", 50.0 + (i % 3), 1, 50.0) for i in range(30)]
    summary = preview_summarize(day=DAY, rows=rows, top=10)
    assert summary.changed == 20  # those whose SSI moved (i % 3 != 0); every rank is 1 before and after
    assert [m.rep for m in summary.moves] == [
        "r02",
        "r05",
        "r08",
        "r11",
        "r14",
        "r17",
        "r20",
        "r23",
        "r26",
        "r29",
    ]
