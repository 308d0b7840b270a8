"""The tenants_at_scale phase of ``make bench``: its rows from hand-made numbers, the reads it
spreads over the tenants and the settings it reads. The phase itself runs in ``make bench``."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.phases.tenants_at_scale import (
    MigrationRuns,
    compute_benchmarks_row,
    memory_rows,
    migration_rows,
    nightly_row,
    progress_done,
    reads_rows,
    slugs,
    spread_reads,
    tenants_from_env,
)
from bench.results import Row


def test_bench_tenants_defaults_to_the_scale_and_refuses_what_is_not_a_count() -> None:
    assert tenants_from_env({}, 2_000) == 2_000
    assert tenants_from_env({"BENCH_TENANTS": " 200 "}, 2_000) == 200
    for bad in ("1", "0", "-5", "2k", "1.5"):
        with pytest.raises(ValueError, match="BENCH_TENANTS"):
            tenants_from_env({"BENCH_TENANTS": bad}, 2_000)


def test_the_tenants_are_named_in_order_under_their_own_prefix() -> None:
    assert slugs(3) == ["bench-m0000", "bench-m0001", "bench-m0002"]
    assert not any(s.startswith("bench-t") for s in slugs(3))  # the tenants phase's, deleted apart


def test_spread_reads_visit_every_tenant_evenly_with_reps_in_range() -> None:
    tenants = slugs(7)
    reads = spread_reads("rep_card", tenants, 30, seed=1)
    assert len(reads) == 30
    visits = Counter(t for t, _ in reads)
    assert set(visits) == set(tenants)
    assert set(visits.values()) == {4, 5}  # 30 reads over 7 tenants: 4 or 5 each
    assert all(1 <= int(path.rsplit("-", 1)[1]) <= 25 for _, path in reads)
    assert all(path.startswith("/api/v1/reps/rep-") for _, path in reads)


def test_spread_reads_read_each_tenant_once_at_least_however_few_reads_are_asked() -> None:
    reads = spread_reads("leaderboard_ssi", slugs(50), 10, seed=2)
    assert len(reads) == 50
    assert {t for t, _ in reads} == set(slugs(50))
    assert {p for _, p in reads} == {"/api/v1/leaderboards/ssi"}
    assert {p.endswith("/ssi") for _, p in spread_reads("rep_ssi", slugs(3), 3, seed=3)} == {True}


def test_the_nightly_of_many_tenants_is_held_to_twice_the_one_tenant_of_the_same_size() -> None:
    assert nightly_row(10.0, 5.0, 200) == Row(
        "tenants_at_scale.nightly_200", 10.0, "s", 5.0, 2.0, "ratio <= 2", True
    )
    assert nightly_row(10.1, 5.0, 200).ok is False


def test_compute_benchmarks_without_its_command_is_a_row_with_no_figure_and_no_verdict() -> None:
    assert compute_benchmarks_row(None) == Row(
        "tenants_at_scale.compute_benchmarks", None, "s (no command)", target="< 60"
    )
    assert compute_benchmarks_row(59.9).ok is True
    assert compute_benchmarks_row(60.0).ok is False


def test_a_spread_read_is_held_to_one_and_a_half_times_the_one_tenant_p99() -> None:
    one = [0.010] * 99 + [0.020]  # p99 (the 99th of 100): 10 ms
    spread = [0.010] * 98 + [0.015, 0.900]  # 15 ms: 1.5 times
    again = [0.012] * 100
    assert reads_rows("rep_card", one, spread, again) == [
        Row("tenants_at_scale.rep_card.one_tenant_p99", 10.0, "ms"),
        Row("tenants_at_scale.rep_card.spread_p99", 15.0, "ms", 10.0, 1.5, "ratio <= 1.5", True),
        Row("tenants_at_scale.rep_card.spread_again_p99", 12.0, "ms"),
    ]
    slower = [0.010] * 98 + [0.016, 0.900]
    assert reads_rows("rep_card", one, slower, again)[1].ok is False


def test_the_second_pass_may_add_a_tenth_of_the_first_and_one_mib_at_least() -> None:
    # 100 MiB, then +40 MiB over 200 tenants (204.8 KiB each), then +4 MiB: a tenth, met.
    rows = memory_rows(100 * 1024, 140 * 1024, 144 * 1024, 200)
    assert rows == [
        Row("tenants_at_scale.worker_rss_first_pass", 140.0, "MiB", 100.0),
        Row("tenants_at_scale.worker_rss_per_tenant", 204.8, "KiB/tenant"),
        Row("tenants_at_scale.worker_rss_second_pass_growth", 4.0, "MiB", target="<= 4.0", ok=True),
    ]
    assert memory_rows(100 * 1024, 140 * 1024, 144 * 1024 + 1, 200)[2].ok is False
    # A first pass that added nearly nothing: 1 MiB of slack for the allocator.
    assert memory_rows(100 * 1024, 100 * 1024 + 10, 101 * 1024, 200)[2].ok is True
    assert memory_rows(100 * 1024, 100 * 1024 + 10, 101 * 1024 + 11, 200)[2].ok is False


def test_the_migration_rate_is_the_second_runs_and_resuming_means_only_what_was_left() -> None:
    second = {"migrated": 130, "up_to_date": 70, "seconds": 10.0}
    rows = migration_rows(MigrationRuns(tenants=200, interrupted_at=68, second=second, all_migrated=True))
    assert rows == [
        Row("tenants_at_scale.migrate_rate", 780.0, "tenants/min", target=">= 600", ok=True),
        Row(
            "tenants_at_scale.migrate_resumed",
            130.0,
            "tenants left",
            70.0,
            target="only what was left",
            ok=True,
        ),
    ]
    # It redid some of what the first run had reported done, or left a schema without the column.
    redone = {"migrated": 140, "up_to_date": 60, "seconds": 10.0}
    assert migration_rows(MigrationRuns(200, 68, redone, True))[1].ok is False
    assert migration_rows(MigrationRuns(200, 68, second, False))[1].ok is False
    slow = {"migrated": 130, "up_to_date": 70, "seconds": 13.1}
    assert migration_rows(MigrationRuns(200, 68, slow, True))[0].ok is False


def test_progress_lines_of_migrate_tenants_are_read_and_other_lines_are_not() -> None:
    assert progress_done("68/200 tenants, 1,200/min, ETA 0:06\n") == 68
    assert progress_done("migrating 200 tenant schemas with 2 process(es)…") is None
    assert progress_done("done: 132 schemas migrated") is None
