"""Phase ``reads``: latency and throughput of the rep card, the rep's SSI and the leaderboard on
``bench-big``, against ``/healthz`` (no database query) on the same server and clients."""

from __future__ import annotations

import random

from bench.client import LoadResult, Progress, percentile, run_load
from bench.context import BIG, Context
from bench.phases.recompute import nightly_run
from bench.results import Row

# (name, host, paths)
Endpoint = tuple[str, str, list[str]]


def run(ctx: Context) -> None:
    prepare(ctx)
    baseline_rate = 0.0
    for name, host, paths in endpoints(ctx):
        result = measure(ctx, name, host, paths)
        p50 = percentile(result.latencies, 50) * 1000
        p99 = percentile(result.latencies, 99) * 1000
        if name == "healthz":
            baseline_rate = result.throughput
            ctx.rows += [
                Row("reads.healthz.p50", p50, "ms"),
                Row("reads.healthz.p99", p99, "ms"),
                Row("reads.healthz.throughput", result.throughput, "req/s"),
            ]
            continue
        ratio = result.throughput / baseline_rate if baseline_rate else None
        ctx.rows += [
            Row(f"reads.{name}.p50", p50, "ms"),
            Row(f"reads.{name}.p99", p99, "ms", target="< 50", ok=p99 < 50),
            Row(f"reads.{name}.throughput", result.throughput, "req/s", baseline_rate, ratio,
                "ratio >= 0.25", ratio is not None and ratio >= 0.25),
        ]  # fmt: skip


def prepare(ctx: Context) -> None:
    """The reads need a scored day on ``bench-big``: when the recompute phase did not run
    (``BENCH_ONLY=reads``), one nightly job for yesterday (untimed) scores it, as that
    phase's first nightly would.

    Its synthetic history was vacuumed once built (``bench.prepare.big_create``)."""
    from django_tenants.utils import tenant_context

    from core.clock import local_yesterday
    from scoring.models import ScoredDay
    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug=BIG)
    with tenant_context(tenant):
        scored = ScoredDay.objects.exists()
    if scored:
        return
    day = local_yesterday(tenant.timezone)
    progress = Progress("reads setup")
    progress.update(f"no scored day on {BIG} (the recompute phase did not run): nightly job for {day}…")
    report, _, _ = nightly_run(ctx, day)
    ctx.wait_worker_idle()
    progress.done(f"scored {BIG} for {day} (untimed): {report['reps']:,} reps in {report['seconds']:.1f}s")


def endpoints(ctx: Context) -> list[Endpoint]:
    """``healthz`` first (the baseline), then the reads of random reps of ``bench-big``."""
    s = ctx.scale
    rng = random.Random(5)
    n = s.reads_per_endpoint
    reps = [f"rep-{rng.randint(1, s.reps)}" for _ in range(n)]
    return [
        ("healthz", "localhost", ["/healthz"] * n),
        ("rep_card", ctx.host(BIG), [f"/api/v1/reps/{r}" for r in reps]),
        ("rep_ssi", ctx.host(BIG), [f"/api/v1/reps/{r}/ssi" for r in reps]),
        ("leaderboard_ssi", ctx.host(BIG), ["/api/v1/leaderboards/ssi"] * n),
    ]


def measure(ctx: Context, name: str, host: str, paths: list[str]) -> LoadResult:
    """A short warm-up, then every path by ``read_clients`` clients; failed requests are errors."""
    s = ctx.scale
    key = None if name == "healthz" else ctx.keys[BIG]
    warm = [("GET", p, None) for p in paths[: s.read_clients * 2]]
    warm_result = run_load(
        port=ctx.stack.port, host=host, key=key, clients=s.read_clients, requests=warm, max_seconds=60
    )
    if warm_result.errors:
        raise RuntimeError(f"{name}: {warm_result.errors[0]}")
    progress = Progress(f"reads {name}")
    n = len(paths)

    def show(result: LoadResult, elapsed: float) -> None:
        progress.update(f"{result.ok}/{n} requests, {result.ok / max(elapsed, 1e-9):,.0f} req/s")

    result = run_load(
        port=ctx.stack.port, host=host, key=key, clients=s.read_clients, max_seconds=120,
        requests=[("GET", p, None) for p in paths], progress=show,
    )  # fmt: skip
    if result.errors:
        ctx.errors.extend(f"reads {name}: {e}" for e in result.errors[:3])
    if not result.latencies:
        raise RuntimeError(f"{name}: no successful request")
    progress.done(
        f"{result.ok} requests, {s.read_clients} clients: p50 {percentile(result.latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(result.latencies, 99) * 1000:.1f} ms, {result.throughput:,.0f} req/s"
    )
    return result
