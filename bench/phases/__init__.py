"""The measures of ``make bench``, in the order they run. Each is ``run(ctx)``: it appends its
rows (and errors) to the ``bench.context.Context`` it is given."""

from __future__ import annotations

from collections.abc import Callable

from bench.context import Context
from bench.phases import badge_latency, console, contests, ingest, reads, recompute, tenants, tenants_at_scale

# key (as BENCH_ONLY names it) -> (title, run)
PHASES: dict[str, tuple[str, Callable[[Context], None]]] = {
    "tenants": ("tenants", tenants.run),
    "ingest": ("ingest", ingest.run),
    "recompute": ("recompute", recompute.run),
    "reads": ("reads", reads.run),
    "console": ("console", console.run),
    "badge_latency": ("ingest-to-badge latency", badge_latency.run),
    "contests": ("contests", contests.run),
    "tenants_at_scale": ("tenants at scale", tenants_at_scale.run),
}
