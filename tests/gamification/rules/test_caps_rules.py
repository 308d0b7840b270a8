"""Daily caps, the pure rule (docs/gamification.md#daily-caps-fair-play): no database."""

from __future__ import annotations

import pytest

from gamification.rules.caps import capped_count, flag_threshold, newly_counted


@pytest.mark.parametrize(
    ("count", "cap", "capped"),
    [(0, 5, 0), (3, 5, 3), (5, 5, 5), (9, 5, 5), (9, None, 9), (1, 1, 1), (1000, 1, 1)],
)
def test_the_capped_count_is_the_count_up_to_the_cap(count: int, cap: int | None, capped: int) -> None:
    assert capped_count(count, cap) == capped


def test_events_under_the_cap_all_count() -> None:
    assert newly_counted(before=2, added=2, cap=5) == 2


def test_only_the_events_that_reach_the_cap_count() -> None:
    # 4 before, 3 more, cap 5: the 5th counts, the 6th and 7th do not.
    assert newly_counted(before=4, added=3, cap=5) == 1


def test_a_late_event_on_a_capped_day_counts_for_nothing() -> None:
    assert newly_counted(before=5, added=1, cap=5) == 0
    assert newly_counted(before=9, added=4, cap=5) == 0


def test_without_a_cap_every_event_counts() -> None:
    assert newly_counted(before=100, added=7, cap=None) == 7


def test_a_raised_cap_counts_the_events_stored_afterwards_only() -> None:
    # 7 stored under cap 5 (5 counted); the cap is now 10: an 8th counts, the 6th and 7th never.
    credited = newly_counted(before=0, added=7, cap=5)
    credited += newly_counted(before=7, added=1, cap=10)
    assert credited == 5 + 1


def test_a_lowered_cap_takes_nothing_back_and_counts_nothing_more_that_day() -> None:
    credited = newly_counted(before=0, added=7, cap=None)
    assert newly_counted(before=7, added=2, cap=5) == 0
    assert credited == 7


def test_events_stored_one_by_one_count_as_if_stored_together() -> None:
    one_by_one = sum(newly_counted(before=k, added=1, cap=4) for k in range(9))
    assert one_by_one == newly_counted(before=0, added=9, cap=4) == capped_count(9, 4) == 4


def test_the_flag_threshold_is_the_99th_percentile_times_the_factor() -> None:
    assert flag_threshold(100.0, 3) == 300.0
    assert flag_threshold(99.01, 1.5) == pytest.approx(148.515)
