"""The contests phase of ``make bench``: its rows from hand-made numbers, and the standings pages
it reads. The phase itself runs in ``make bench``."""

from __future__ import annotations

from bench.phases.contests import finalize_row, ingest_row, standings_paths, standings_rows
from bench.results import Row


def test_each_standings_read_is_a_p99_row_with_its_ratio_to_healthz_and_the_50_ms_target() -> None:
    healthz = [0.001] * 99 + [0.002]  # p99 (nearest rank: the 99th of 100) is 1 ms
    fast = [0.010] * 98 + [0.040, 0.900]  # the 99th is 40 ms
    slow = [0.020] * 50 + [0.060] * 50  # 60 ms
    rows = standings_rows(healthz, {"standings": fast, "standings_race": slow})
    assert rows == [
        Row("contests.healthz.p99", 1.0, "ms"),
        Row("contests.standings.p99", 40.0, "ms", 1.0, 40.0, "< 50", True),
        Row("contests.standings_race.p99", 60.0, "ms", 1.0, 60.0, "< 50", False),
    ]


def test_finalizing_under_five_seconds_meets_the_target() -> None:
    assert finalize_row(1.25) == Row("contests.finalize_seconds", 1.25, "s", target="< 5", ok=True)
    assert finalize_row(5.0).ok is False


def test_the_ingest_ratio_divides_the_rate_with_contests_by_the_mean_of_the_runs_without() -> None:
    row = ingest_row([20_000.0, 16_000.0], 16_200.0)  # baseline 18,000: ratio 0.9
    assert row == Row("contests.ingest_ratio", 16_200.0, "events/s", 18_000.0, 0.9, "ratio >= 0.9", True)
    assert ingest_row([20_000.0, 16_000.0], 16_000.0).ok is False  # 0.888…


def test_standings_reads_are_a_third_first_pages_and_the_rest_random_pages_in_range() -> None:
    paths = standings_paths(7, reps=10_000, n=300)
    pages = [int(p.split("page=")[1]) for p in paths]
    assert all(p.startswith("/api/v1/contests/7/standings?page=") for p in paths)
    assert pages[0:9:3] == [1, 2, 3]
    assert all(1 <= p <= 200 for p in pages)  # 10,000 reps, 50 a page
    assert len(set(pages)) > 50
    assert standings_paths(7, reps=20, n=3, by="team") == [
        "/api/v1/contests/7/standings?page=1&by=team",
        "/api/v1/contests/7/standings?page=1&by=team",
        "/api/v1/contests/7/standings?page=1&by=team",
    ]
