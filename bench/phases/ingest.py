"""Phase ``ingest``: events/s accepted by ``POST /api/v1/activities`` (``bench-ingest``), against
the same rows written by one bare binary COPY."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bench.client import LoadResult, Progress, percentile, run_load
from bench.context import INGEST, Context, say
from bench.database import WaitSampler, checkpoint, vacuum
from bench.results import Row

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

BATCH = 1000
# (id, rep, type, occurred_at, value)
Event = tuple[str, str, str, datetime, float]
Request = tuple[str, str, bytes | None]
COPY_TYPES = ["varchar", "int8", "varchar", "timestamptz", "date", "float8", "jsonb", "timestamptz"]


def run(ctx: Context) -> None:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    events = list(ingest_events(ctx, now))
    bodies = batches(events)
    warm_up(ctx, now)
    ctx.wait_worker_idle(slug=INGEST)
    copy_rate = copy_baseline(ctx, events)
    checkpoint(ctx.database_url)
    result, rate = send(ctx, bodies, len(events))
    drained = drain(ctx)
    vacuum(INGEST, "the ingested rows")
    ratio = rate / copy_rate
    ctx.rows += [
        Row("ingest.throughput", rate, "events/s", copy_rate, ratio,
            ">= 20000/s and ratio >= 0.1", rate >= 20_000 and ratio >= 0.1),
        Row("ingest.batch_p50", percentile(result.latencies, 50) * 1000, "ms"),
        Row("ingest.batch_p99", percentile(result.latencies, 99) * 1000, "ms"),
        Row("ingest.evaluation_drain", drained, "s"),
    ]  # fmt: skip


def ingest_events(ctx: Context, now: datetime) -> Iterator[Event]:
    """The ingest benchmark's events, deterministic, spread over the two days before ``now``."""
    from scoring.engine.catalog import EVENT_TYPES

    types = sorted(EVENT_TYPES)
    s = ctx.scale
    stamp = int(now.timestamp())
    for i in range(s.ingest_events):
        type_name = types[(i * 7919) % len(types)]
        value = float((i * 31) % 101) if type_name == "profile_updated" else 1.0
        yield (
            f"i{stamp}-{i}",
            f"rep-{1 + (i * 104729) % s.ingest_reps}",
            type_name,
            now - timedelta(seconds=(i * 2654435761) % (2 * 86400)),
            value,
        )


def batches(events: list[Event]) -> list[Request]:
    """The requests of the timed run, built before the clock starts: ``BATCH`` events each."""
    bodies: list[Request] = []
    for start in range(0, len(events), BATCH):
        batch = [
            {"id": e[0], "rep": e[1], "type": e[2], "occurred_at": e[3].isoformat(), "value": e[4]}
            for e in events[start : start + BATCH]
        ]
        bodies.append(("POST", "/api/v1/activities", json.dumps({"events": batch}).encode()))
    return bodies


def warm_up(ctx: Context, now: datetime) -> None:
    """Every gunicorn worker imports and connects before the clock starts."""
    s = ctx.scale
    warm = [
        {"id": f"warm-{i}", "rep": "rep-1", "type": "post_liked", "occurred_at": now.isoformat()}
        for i in range(s.ingest_clients * 4)
    ]
    run_load(
        port=ctx.stack.port, host=ctx.host(INGEST), key=ctx.keys[INGEST], clients=s.ingest_clients,
        max_seconds=30,
        requests=[("POST", "/api/v1/activities", json.dumps({"events": [e]}).encode()) for e in warm],
    )  # fmt: skip


def send(ctx: Context, bodies: list[Request], total: int) -> tuple[LoadResult, float]:
    """The timed run: every batch through the API. Returns the load's result and events/s accepted."""
    s = ctx.scale
    progress = Progress("ingest")

    def show(result: LoadResult, elapsed: float) -> None:
        done = result.ok * BATCH
        progress.update(f"{done:,}/{total:,} events, {done / max(elapsed, 1e-9):,.0f} events/s")

    with WaitSampler(ctx.database_url) as waits:
        result = run_load(
            port=ctx.stack.port, host=ctx.host(INGEST), key=ctx.keys[INGEST], clients=s.ingest_clients,
            requests=bodies, max_seconds=s.ingest_max_seconds, progress=show, keep_answers=True,
        )  # fmt: skip
    accepted = sum(json.loads(a)["accepted"] for a in result.answers)
    rate = accepted / result.wall
    progress.done(
        f"{accepted:,} events accepted in {result.wall:.1f}s ({rate:,.0f} events/s; "
        f"{s.ingest_clients} clients, batches of {BATCH}; batch p50 "
        f"{percentile(result.latencies, 50) * 1000:.0f} ms, p99 {percentile(result.latencies, 99) * 1000:.0f} ms)"
    )
    say(f"  ingest: database during the run: {waits.summary()}")
    report_failures(ctx, result, accepted)
    return result, rate


def report_failures(ctx: Context, result: LoadResult, accepted: int) -> None:
    if result.errors:
        ctx.errors.extend(f"ingest: {e}" for e in result.errors[:5])
        say(f"  ingest: {len(result.errors)} failed requests, e.g. {result.errors[0]}")
    sent = result.ok * BATCH
    if accepted != sent:
        ctx.errors.append(f"ingest: {sent:,} events answered but {accepted:,} accepted")


def drain(ctx: Context) -> float:
    """Seconds after the last answer until the worker evaluated every rep the ingest queued."""
    progress = Progress("ingest")
    progress.update("waiting for the worker to evaluate the queued reps…", force=True)
    drained = ctx.wait_worker_idle(slug=INGEST)
    progress.done(f"the worker finished the badge evaluations {drained:.1f}s after the last answer")
    return drained


# --- The baseline: COPY ---------------------------------------------------------------------------


def copy_baseline(ctx: Context, events: list[Event]) -> float:
    """The same rows, as the ingest statement writes them, by one bare psycopg COPY into a
    scratch copy of ``scoring_activity`` (same columns, constraints and indexes). Rows/s of the
    faster of two, each into a new empty table: a baseline is what can be had."""
    import psycopg
    from psycopg import sql

    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug=INGEST)
    progress = Progress("ingest baseline")
    progress.update(f"COPY of {len(events):,} rows…", force=True)
    scratch = sql.Identifier(tenant.schema_name, "bench_copy_activity")
    with psycopg.connect(ctx.database_url, autocommit=True) as conn:
        rows = copy_rows(conn, tenant.schema_name, ZoneInfo(tenant.timezone), events)
        timings = []
        for _ in range(2):
            timings.append(copy_once(ctx, conn, tenant.schema_name, scratch, rows))
            progress.update(f"COPY of {len(rows):,} rows in {timings[-1]:.2f}s", force=True)
        conn.execute(sql.SQL("DROP TABLE {}").format(scratch))
    seconds = min(timings)
    rate = len(rows) / seconds
    progress.done(
        f"COPY of {len(rows):,} rows in {seconds:.2f}s ({rate:,.0f} rows/s; the faster of "
        + " and ".join(f"{t:.2f}s" for t in timings)
        + ")"
    )
    return rate


def copy_rows(
    conn: psycopg.Connection[Any], schema: str, tz: ZoneInfo, events: list[Event]
) -> list[tuple[Any, ...]]:
    """The events as ``scoring_activity`` rows: rep ids looked up, local day computed."""
    from psycopg import sql

    reps: dict[str, int] = dict(
        conn.execute(sql.SQL("SELECT external_id, id FROM {}").format(sql.Identifier(schema, "scoring_rep")))
    )
    ingested_at = datetime.now(UTC)
    return [
        (event_id, reps[rep], type_name, at, at.astimezone(tz).date(), value, None, ingested_at)
        for event_id, rep, type_name, at, value in events
    ]


def copy_once(
    ctx: Context,
    conn: psycopg.Connection[Any],
    schema: str,
    scratch: sql.Identifier,
    rows: list[tuple[Any, ...]],
) -> float:
    """Seconds to COPY ``rows`` into ``scratch``, created anew (empty) after a CHECKPOINT."""
    from psycopg import sql

    statement = sql.SQL(
        "COPY {} (event_id, rep_id, type, occurred_at, local_day, value, metadata, ingested_at) "
        "FROM STDIN (FORMAT BINARY)"
    ).format(scratch)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(scratch))
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
            scratch, sql.Identifier(schema, "scoring_activity")
        )
    )
    checkpoint(ctx.database_url)
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(COPY_TYPES)
        for row in rows:
            copy.write_row(row)
    return time.perf_counter() - started
