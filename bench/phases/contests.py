"""Phase ``contests``: live standings of contests over every rep of ``bench-big`` (against
``/healthz`` on the same server and clients), the finalization of a contest over all of them,
and ingest throughput with 20 running contests against the same ingest without any.

The contests are created through the API (``POST /api/v1/contests``) with the tenant's admin
key; the finalization is the tick's (``contests_tick``, what the beat task runs), in this
process, timed from its call to its return (one transaction: the claim, the frozen standings
of every rep, the prizes of ranks 1 to 10, ``contest.ended``).
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.client import Client, LoadResult, Progress, percentile, run_load
from bench.context import BIG, INGEST, Context, say
from bench.database import checkpoint
from bench.phases.ingest import batches
from bench.results import Row

PAGE_SIZE = 50  # the API's default
STANDINGS_TARGET_MS = 50.0
FINALIZE_TARGET_S = 5.0
INGEST_RATIO_TARGET = 0.9
INGEST_CONTESTS = 20
# Each standings load stops issuing requests after this long: while the standings are computed
# whole per request (seconds at 10,000 reps), the full count would take many minutes.
STANDINGS_MAX_SECONDS = 60
# The 20 running contests of the ingest measure: metrics and kinds, cycled.
INGEST_METRICS = [
    "events.post_published", "sum.follower_gained", "xp", "ssi.gain", "pillar.engage.gain",
    "events.post_liked", "events.message_sent", "sum.profile_updated", "pillar.brand.gain", "xp",
]  # fmt: skip


def run(ctx: Context) -> None:
    today = _local_today(BIG)
    contests = standings_contests_create(ctx, today)
    healthz, measured = standings_measure(ctx, contests)
    ctx.rows += standings_rows(healthz, measured)
    ctx.rows.append(finalize_row(finalize_measure(ctx, contests["finalize"])))
    without, with_contests = ingest_measure(ctx)
    ctx.rows.append(ingest_row(without, with_contests))


# --- The rows (pure: tests/bench/phases/test_contests.py) ------------------------------------------------


def standings_rows(healthz: list[float], measured: dict[str, list[float]]) -> list[Row]:
    """``contests.healthz.p99`` (the baseline), then each standings read's p99 in ms with its
    ratio to it and the 50 ms target. ``measured``: name -> latencies in seconds."""
    base = percentile(healthz, 99) * 1000
    rows = [Row("contests.healthz.p99", base, "ms")]
    for name, latencies in measured.items():
        p99 = percentile(latencies, 99) * 1000
        rows.append(
            Row(f"contests.{name}.p99", p99, "ms", base, p99 / base if base else None,
                f"< {STANDINGS_TARGET_MS:.0f}", p99 < STANDINGS_TARGET_MS)
        )  # fmt: skip
    return rows


def finalize_row(seconds: float) -> Row:
    return Row("contests.finalize_seconds", seconds, "s", target=f"< {FINALIZE_TARGET_S:.0f}",
               ok=seconds < FINALIZE_TARGET_S)  # fmt: skip


def ingest_row(without: list[float], with_contests: float) -> Row:
    """Events/s with the contests running; the baseline is the mean of the runs without any
    (one before, one after), so that a drift over the phase (a growing table) is shared."""
    baseline = sum(without) / len(without)
    ratio = with_contests / baseline if baseline else None
    return Row("contests.ingest_ratio", with_contests, "events/s", baseline, ratio,
               f"ratio >= {INGEST_RATIO_TARGET}", ratio is not None and ratio >= INGEST_RATIO_TARGET)  # fmt: skip


def standings_paths(contest: int, *, reps: int, n: int, by: str | None = None, seed: int = 18) -> list[str]:
    """``n`` standings reads of one contest: a third first pages (1 to 3), the rest random pages."""
    rng = random.Random(seed)
    pages = max(1, -(-reps // PAGE_SIZE))
    extra = f"&by={by}" if by else ""
    out = []
    for i in range(n):
        page = 1 + (i // 3) % min(3, pages) if i % 3 == 0 else rng.randint(1, pages)
        out.append(f"/api/v1/contests/{contest}/standings?page={page}{extra}")
    return out


# --- Standings -----------------------------------------------------------------------------------------


def _local_today(slug: str) -> date:
    from zoneinfo import ZoneInfo

    from tenants.models import Tenant

    return datetime.now(UTC).astimezone(ZoneInfo(Tenant.objects.get(slug=slug).timezone)).date()


def contest_create(client: Client, body: dict[str, Any]) -> int:
    return int(client.json("POST", "/api/v1/contests", body, expect=201)["id"])


def standings_contests_create(ctx: Context, today: date) -> dict[str, int]:
    """On ``bench-big``, every rep taking part: a running leaderboard (``xp``, the last 30 days
    so far), a race (``events.post_published`` to 10) and a teams contest (``events.post_liked``,
    ``avg``), and a leaderboard over the 30 days to yesterday (over: the one to finalize),
    with XP prizes for ranks 1 to 10."""
    start = today - timedelta(days=29)
    common = {"participants": {"all": True}, "start_date": start.isoformat()}
    running = common | {"end_date": (today + timedelta(days=30)).isoformat()}
    client = Client(ctx.stack.port, host=ctx.host(BIG), key=ctx.keys[BIG])
    try:
        return {
            "leaderboard": contest_create(client, running | {"name": "Bench XP", "metric": "xp", "kind": "leaderboard"}),
            "race": contest_create(client, running | {"name": "Bench race", "metric": "events.post_published",
                                                      "kind": "race", "target": 10}),
            "teams": contest_create(client, running | {"name": "Bench teams", "metric": "events.post_liked",
                                                       "kind": "teams", "aggregate": "avg"}),
            "finalize": contest_create(client, common | {
                "name": "Bench over", "metric": "xp", "kind": "leaderboard",
                "start_date": (today - timedelta(days=30)).isoformat(),
                "end_date": (today - timedelta(days=1)).isoformat(),
                "prizes": [{"rank": r, "xp": 100 * (11 - r)} for r in range(1, 11)],
            }),
        }  # fmt: skip
    finally:
        client.close()


def standings_measure(ctx: Context, contests: dict[str, int]) -> tuple[list[float], dict[str, list[float]]]:
    """``/healthz``, then the leaderboard's standings (``reads_per_endpoint`` reads), the race's
    and the teams' (by team and by rep: a fifth as many each), 8 clients."""
    s = ctx.scale
    n = s.reads_per_endpoint
    few = max(20, n // 5)
    reads: list[tuple[str, str, list[str]]] = [
        ("healthz", "localhost", ["/healthz"] * n),
        ("standings", ctx.host(BIG), standings_paths(contests["leaderboard"], reps=s.reps, n=n)),
        ("standings_race", ctx.host(BIG), standings_paths(contests["race"], reps=s.reps, n=few)),
        ("standings_teams", ctx.host(BIG), standings_paths(contests["teams"], reps=20, n=few, by="team")),
        (
            "standings_teams_reps",
            ctx.host(BIG),
            standings_paths(contests["teams"], reps=s.reps, n=few, by="rep"),
        ),
    ]
    checkpoint(ctx.database_url)
    measured: dict[str, list[float]] = {}
    for name, host, paths in reads:
        measured[name] = _load(ctx, name, host, paths).latencies
    healthz = measured.pop("healthz")
    return healthz, measured


def _load(ctx: Context, name: str, host: str, paths: list[str]) -> LoadResult:
    s = ctx.scale
    key = None if name == "healthz" else ctx.keys[BIG]
    warm = run_load(port=ctx.stack.port, host=host, key=key, clients=s.read_clients, max_seconds=60,
                    requests=[("GET", p, None) for p in paths[: s.read_clients]])  # fmt: skip
    if warm.errors:
        raise RuntimeError(f"contests {name}: {warm.errors[0]}")
    progress = Progress(f"contests {name}")

    def show(result: LoadResult, elapsed: float) -> None:
        progress.update(f"{result.ok}/{len(paths)} requests, {result.ok / max(elapsed, 1e-9):,.0f} req/s")

    result = run_load(port=ctx.stack.port, host=host, key=key, clients=s.read_clients,
                      max_seconds=STANDINGS_MAX_SECONDS,
                      requests=[("GET", p, None) for p in paths], progress=show)  # fmt: skip
    if result.errors:
        ctx.errors.extend(f"contests {name}: {e}" for e in result.errors[:3])
    if not result.latencies:
        raise RuntimeError(f"contests {name}: no successful request")
    progress.done(
        f"{result.ok} requests, {s.read_clients} clients: p50 {percentile(result.latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(result.latencies, 99) * 1000:.1f} ms, {result.throughput:,.0f} req/s"
    )
    return result


# --- Finalization ----------------------------------------------------------------------------------------


def finalize_measure(ctx: Context, contest_id: int) -> float:
    """Seconds of the tick that finalizes the contest that is over (the only one), checked:
    a frozen row per rep, the prizes of ranks 1 to 10 in the XP ledger."""
    from django_tenants.utils import tenant_context

    from gamification.models import Contest, ContestStanding
    from gamification.services.contest_finalize import contests_tick
    from tenants.models import Tenant

    ctx.wait_worker_idle()
    checkpoint(ctx.database_url)
    progress = Progress("contests finalize")
    progress.update(f"tick finalizing contest {contest_id} over {ctx.scale.reps:,} reps…", force=True)
    tenant = Tenant.objects.get(slug=BIG)
    with tenant_context(tenant):
        started = time.perf_counter()
        result = contests_tick(tenant=tenant)
        seconds = time.perf_counter() - started
        if result.finalized != [contest_id]:
            raise RuntimeError(f"the tick finalized {result.finalized}, not [{contest_id}]")
        frozen = ContestStanding.objects.filter(contest_id=contest_id).count()
        prized = ContestStanding.objects.filter(contest_id=contest_id, prize_xp__gt=0).count()
        status = Contest.objects.get(pk=contest_id).status
    if status != Contest.Status.ENDED or frozen != ctx.scale.reps:
        raise RuntimeError(f"contest {contest_id}: status {status}, {frozen} frozen rows")
    progress.done(f"finalized in {seconds:.2f}s: {frozen:,} frozen rows, {prized} reps with an XP prize")
    return seconds


# --- Ingest with and without running contests ----------------------------------------------------------


def ingest_measure(ctx: Context) -> tuple[list[float], float]:
    """Three ingests of the same size into ``bench-ingest`` (a fifth of the ingest phase's
    events each): without contests, with 20 running (mixed metrics and kinds), without again
    (the 20 cancelled). Returns the rates without, and the rate with."""
    s = ctx.scale
    n = max(10_000, s.ingest_events // 5)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    _ingest(ctx, "warm-up", now, "cw", min(n, 4_000 * s.ingest_clients))
    first = _ingest(ctx, "without contests", now, "c0", n)
    ids = ingest_contests_create(ctx)
    with_contests = _ingest(ctx, f"with {len(ids)} running contests", now, "c1", n)
    client = Client(ctx.stack.port, host=ctx.host(INGEST), key=ctx.keys[INGEST])
    try:
        for contest in ids:
            client.json("POST", f"/api/v1/contests/{contest}/cancel", {}, expect=200)
    finally:
        client.close()
    second = _ingest(ctx, "without contests (again, cancelled)", now, "c2", n)
    return [first, second], with_contests


def ingest_contests_create(ctx: Context) -> list[int]:
    """20 contests on ``bench-ingest``, every rep taking part, this week and next, made
    ``running`` by a tick (its ``contest.started`` events queued as they would be)."""
    from django_tenants.utils import tenant_context

    from gamification.services.contest_finalize import contests_tick
    from tenants.models import Tenant

    today = _local_today(INGEST)
    dates = {
        "start_date": (today - timedelta(days=7)).isoformat(),
        "end_date": (today + timedelta(days=7)).isoformat(),
    }
    client = Client(ctx.stack.port, host=ctx.host(INGEST), key=ctx.keys[INGEST])
    kinds: list[dict[str, Any]] = [
        {"kind": "leaderboard"}, {"kind": "race", "target": 5}, {"kind": "teams", "aggregate": "sum"},
    ]  # fmt: skip
    try:
        ids = [
            contest_create(client, dates | kinds[i % 3] | {
                "name": f"Bench ingest {i}", "metric": INGEST_METRICS[i % len(INGEST_METRICS)],
                "participants": {"all": True},
            })
            for i in range(INGEST_CONTESTS)
        ]  # fmt: skip
    finally:
        client.close()
    tenant = Tenant.objects.get(slug=INGEST)
    with tenant_context(tenant):
        contests_tick(tenant=tenant)
    return ids


def _ingest(ctx: Context, label: str, now: datetime, prefix: str, n: int) -> float:
    """``n`` events through ``POST /api/v1/activities`` (4 clients, batches of 1,000) after the
    worker went idle and a CHECKPOINT; events/s accepted."""
    s = ctx.scale
    stamp = int(now.timestamp())
    from scoring.engine.catalog import EVENT_TYPES

    types = sorted(EVENT_TYPES)
    events = [
        (f"{prefix}{stamp}-{i}", f"rep-{1 + (i * 104729) % s.ingest_reps}", types[(i * 7919) % len(types)],
         now - timedelta(seconds=(i * 2654435761) % (2 * 86400)), 1.0)
        for i in range(n)
    ]  # fmt: skip
    bodies = batches(events)
    ctx.wait_worker_idle(slug=INGEST)
    checkpoint(ctx.database_url)
    progress = Progress(f"contests ingest {label}")
    result = run_load(port=ctx.stack.port, host=ctx.host(INGEST), key=ctx.keys[INGEST],
                      clients=s.ingest_clients, requests=bodies, max_seconds=s.ingest_max_seconds,
                      keep_answers=True)  # fmt: skip
    if result.errors:
        raise RuntimeError(f"contests ingest {label}: {result.errors[0]}")
    accepted = sum(json.loads(a)["accepted"] for a in result.answers)
    rate = accepted / result.wall
    progress.done(f"{accepted:,} events in {result.wall:.1f}s: {rate:,.0f} events/s")
    if accepted != n:
        ctx.errors.append(f"contests ingest {label}: {n:,} events sent, {accepted:,} accepted")
    say_drain = ctx.wait_worker_idle(slug=INGEST)
    say(f"  contests ingest {label}: the worker drained {say_drain:.1f}s after the last answer")
    return rate
