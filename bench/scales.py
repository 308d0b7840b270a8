"""The scales of ``make bench`` (``BENCH_SCALE``): how much data, load and samples each phase uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    reps: int  # bench-big
    days: int
    events_per_rep_day: float
    ingest_events: int
    ingest_reps: int
    ingest_max_seconds: float
    tenants: int
    reads_per_endpoint: int
    badge_samples: int
    console_reads_per_page: int
    many_tenants: int = 2_000  # tenants_at_scale (BENCH_TENANTS), 25 reps each
    many_days: int = 90
    ingest_clients: int = 4
    read_clients: int = 8


SCALES = {
    # About a minute on 2 cores.
    "small": Scale("small", reps=1_000, days=30, events_per_rep_day=5.5, ingest_events=100_000,
                   ingest_reps=1_000, ingest_max_seconds=60, tenants=20, reads_per_endpoint=500,
                   badge_samples=20, console_reads_per_page=100, many_tenants=20, many_days=30),
    # About 7.5 minutes on 2 cores: ~5M events to build (2.5 min), 1M to ingest (capped at 3 minutes).
    "default": Scale("default", reps=10_000, days=90, events_per_rep_day=5.5, ingest_events=1_000_000,
                     ingest_reps=10_000, ingest_max_seconds=180, tenants=100, reads_per_endpoint=1_000,
                     badge_samples=50, console_reads_per_page=300),
}  # fmt: skip
