"""The console phase of ``make bench``: its rows from hand-made latencies, and its page list
(the catalog's names, ``BENCH_CONSOLE_PAGES``). The phase itself runs in ``make bench``."""

from __future__ import annotations

import pytest

from bench.phases.console import MEASURED, page_rows, pages_from_env
from bench.results import Row


def test_each_page_is_a_p95_row_with_its_ratio_to_healthz_and_the_150_ms_target() -> None:
    healthz = [0.001] * 19 + [0.004]  # p95 (nearest rank: the 19th of 20) is 1 ms
    fast = [0.010] * 18 + [0.030, 0.900]  # the 19th is 30 ms
    slow = [0.100] * 10 + [0.160] * 10  # 160 ms
    rows = page_rows(healthz, {"overview": fast, "reps": slow})
    assert rows == [
        Row("console.healthz.p95", 1.0, "ms"),
        Row("console.overview.p95", 30.0, "ms", 1.0, 30.0, "< 150", True),
        Row("console.reps.p95", 160.0, "ms", 1.0, 160.0, "< 150", False),
    ]


def test_every_measured_page_is_in_the_catalog_and_all_are_measured_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BENCH_CONSOLE_PAGES", raising=False)
    pages = pages_from_env()  # page_get raises on a name the catalog lacks
    assert [p.name for p in pages] == list(MEASURED)
    assert {"overview", "reps", "rep", "leaderboards", "weights", "badges", "goals", "audit"} <= set(MEASURED)
    assert {"webhooks", "keys", "members"} <= set(MEASURED)


def test_bench_console_pages_limits_the_pages_in_their_usual_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_CONSOLE_PAGES", " reps, overview ")
    assert [p.name for p in pages_from_env()] == ["overview", "reps"]
    monkeypatch.setenv("BENCH_CONSOLE_PAGES", "overview,nope")
    with pytest.raises(RuntimeError, match="not nope"):
        pages_from_env()
