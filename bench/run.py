"""``make bench``: benchmarks of SSI Cloud on the real stack, against baselines measured in the same run.

``python -m bench.run`` (``BENCH_SCALE=small|default``). See bench/README.md.

1. PostgreSQL: ``DATABASE_URL``, else the embedded server (started if needed,
   stopped at the end if this run started it). ``setup_db`` brings it up to date.
2. Data: ``bench-*`` tenants (left-overs of an earlier run are deleted first):
   ``bench-big`` (reps x days of synthetic activity, ``bench.data``),
   ``bench-ingest`` (reps, no events) and ``bench-badge`` (empty).
3. gunicorn (2 workers) and one Celery worker (prefork, 2 processes) on a
   private filesystem broker (``bench.stack``).
4. The measures, each with its baseline: tenants, ingest, recompute, reads,
   ingest-to-badge latency. A table, and ``bench/results.json``.
5. Everything it started is stopped and every ``bench-*`` tenant deleted, also
   on Ctrl-C or an error. Exit code 0 when the run worked, targets met or not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.client import Client, LoadResult, Progress, percentile, run_load
from bench.stack import Stack, bench_env
from config.embedded import BASE_DIR

RESULTS = BASE_DIR / "bench" / "results.json"
PREFIX = "bench-"
BIG = "bench-big"
INGEST = "bench-ingest"
BADGE = "bench-badge"
PLATFORM_KEY_NAME = "bench"
# BENCH_ONLY=ingest,reads runs only these phases (in this order, whatever order they are named in).
PHASES = {
    "tenants": "tenants",
    "ingest": "ingest",
    "recompute": "recompute",
    "reads": "reads",
    "badge_latency": "ingest-to-badge latency",
}
BATCH = 1000


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
    ingest_clients: int = 4
    read_clients: int = 8


SCALES = {
    # About a minute on 2 cores.
    "small": Scale("small", reps=1_000, days=30, events_per_rep_day=5.5, ingest_events=100_000,
                   ingest_reps=1_000, ingest_max_seconds=60, tenants=20, reads_per_endpoint=500,
                   badge_samples=20),
    # About 7.5 minutes on 2 cores: ~5M events to build (2.5 min), 1M to ingest (capped at 3 minutes).
    "default": Scale("default", reps=10_000, days=90, events_per_rep_day=5.5, ingest_events=1_000_000,
                     ingest_reps=10_000, ingest_max_seconds=180, tenants=100, reads_per_endpoint=1_000,
                     badge_samples=50),
}  # fmt: skip


@dataclass
class Row:
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str | None = None
    ok: bool | None = None


def say(message: str) -> None:
    print(message, flush=True)


def _first_line(exc: BaseException) -> str:
    """A short form for the error summary (the whole of it was printed when it happened)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


def rounded(value: float | None, digits: int = 3) -> float | None:
    if value is None:
        return None
    return float(f"{value:.{digits}g}") if abs(value) < 10 ** (digits - 1) else float(round(value))


# --- Machine ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": cpus,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


# --- The run ------------------------------------------------------------------------------------------


@dataclass
class Bench:
    scale: Scale
    env: dict[str, str]
    stack: Stack
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # slug -> admin key
    platform_key: str = ""

    # -- helpers --

    def manage(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-3000:]
            raise RuntimeError(f"manage.py {' '.join(args)} exited {result.returncode}:\n{output}")
        return result

    def host(self, slug: str) -> str:
        from django.conf import settings

        return f"{slug}.{settings.SSI_BASE_DOMAIN}"

    def phase(self, name: str, body: Callable[[], None]) -> None:
        say(f"\n== {name}")
        started = time.monotonic()
        try:
            body()
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            self.errors.append(f"{name}: {_first_line(exc)}")
            say(f"  {name} FAILED: {exc}")
            traceback.print_exc()
            self.stack.check_alive()  # a dead gunicorn or worker ends the run: every next phase needs them
        say(f"  ({name}: {time.monotonic() - started:.1f}s)")

    # -- setup --

    def tenants_cleanup(self) -> int:
        from tenants.models import Tenant
        from tenants.services import platform_keys_revoke, tenant_delete

        old = list(Tenant.objects.filter(slug__startswith=PREFIX))
        for tenant in old:
            tenant_delete(tenant=tenant)
        platform_keys_revoke(name=PLATFORM_KEY_NAME)
        return len(old)

    def prepare_data(self, *, big: bool = True) -> None:
        from django_tenants.utils import tenant_context

        from tenants.db import connection
        from tenants.services import platform_key_create, tenant_create

        s = self.scale
        if big:
            self.big_create()
        ingest = tenant_create(slug=INGEST, name="Bench ingest", timezone_name="Europe/Berlin")
        self.keys[INGEST] = ingest.admin_key
        with tenant_context(ingest.tenant), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO scoring_rep (external_id, name, email, active, created_at, updated_at) "
                "SELECT 'rep-' || g, 'Rep ' || g, '', true, now(), now() FROM generate_series(1, %s) g",
                [s.ingest_reps],
            )
        self.keys[BADGE] = tenant_create(slug=BADGE, name="Bench badge", timezone_name="UTC").admin_key
        self.platform_key = platform_key_create(name=PLATFORM_KEY_NAME).token
        self.shield_from_nightly()

    def big_create(self) -> None:
        from django_tenants.utils import tenant_context

        from bench.data import big_tenant_create
        from tenants.db import connection

        s = self.scale
        progress = Progress("data")
        progress.update(f"{BIG}: {s.reps:,} reps x {s.days} days…", force=True)
        started = time.monotonic()
        big, key = big_tenant_create(
            slug=BIG, reps=s.reps, days=s.days, events_per_rep_day=s.events_per_rep_day, log=False
        )
        self.keys[BIG] = key
        with tenant_context(big), connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM scoring_activity")
            events = cursor.fetchone()[0]
        progress.done(
            f"{BIG}: {s.reps:,} reps, {events:,} events over {s.days} days in {time.monotonic() - started:.1f}s"
        )
        # A history bulk-loaded a moment ago, not months ago: vacuumed now, or autovacuum may
        # work through its millions of rows during the timed phases that follow, and every
        # index-only scan of the rollup (the card's streak, the nightly) visits the heap,
        # which an old history never makes it do.
        self.vacuum(BIG, "its history")

    def shield_from_nightly(self) -> None:
        """A ``make run`` beat on the same database would enqueue nightly recomputes of our
        tenants on its own worker: mark them scored through yesterday (the nightly job this
        bench runs itself does not depend on it)."""
        from scoring.selectors import local_yesterday
        from tenants.models import Tenant

        for tenant in Tenant.objects.filter(slug__startswith=PREFIX):
            Tenant.objects.filter(pk=tenant.pk).update(scored_through=local_yesterday(tenant.timezone))

    def vacuum(self, slug: str, what: str) -> None:
        """``VACUUM (ANALYZE)`` of every table of a tenant's schema after a step wrote millions
        of rows, untimed, so that autovacuum does not work through them during the timed
        phases that follow."""
        import django.db
        from django_tenants.utils import tenant_context

        from tenants.db import connection
        from tenants.models import Tenant

        progress = Progress("vacuum")
        progress.update(f"VACUUM (ANALYZE) of {slug}'s tables ({what})…", force=True)
        started = time.monotonic()
        with tenant_context(Tenant.objects.get(slug=slug)), connection.cursor() as cursor:
            cursor.execute(
                "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = %s",
                [connection.schema_name],
            )
            tables = cursor.fetchone()[0]
            try:
                cursor.execute(f"VACUUM (ANALYZE) {tables}")
            except django.db.DatabaseError as exc:  # hygiene, not a measure: say so and go on
                progress.done(f"VACUUM of {slug}'s tables failed ({exc}); the timed phases go on")
                return
        progress.done(f"vacuumed {slug}'s tables ({what}) in {time.monotonic() - started:.1f}s")

    def checkpoint(self) -> None:
        """Flush dirty pages before a timed phase, so it does not pay for the previous one's
        writes (best effort: needs superuser or pg_checkpoint)."""
        import psycopg

        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn,
        ):
            conn.execute("CHECKPOINT")

    def wait_worker_idle(self, *, slug: str | None = None, timeout: float = 300) -> float:
        """Until the broker queue is empty (and ``slug`` has no pending evaluation). Returns seconds."""
        from django_tenants.utils import tenant_context

        from gamification.models import PendingEvaluation
        from tenants.models import Tenant

        started = time.monotonic()
        tenant = Tenant.objects.get(slug=slug) if slug else None
        quiet_since: float | None = None
        while time.monotonic() - started < timeout:
            self.stack.check_alive()
            busy = self.stack.queued_messages() > 0
            if not busy and tenant is not None:
                with tenant_context(tenant):
                    busy = PendingEvaluation.objects.exists()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 1.0:
                return quiet_since - started
            time.sleep(0.2)
        raise RuntimeError(f"the worker was still busy after {timeout:.0f}s")

    # -- 1. tenants --

    def bench_tenants(self) -> None:
        from django_tenants.utils import get_public_schema_name

        from tenants.models import Tenant

        n = self.scale.tenants
        client = Client(self.stack.port, host="localhost", key=self.platform_key)
        client.json("GET", "/api/v1/platform/tenants", expect=200)  # warm-up
        progress = Progress("tenants")
        started = time.monotonic()
        for i in range(n):
            client.json(
                "POST",
                "/api/v1/platform/tenants",
                {"slug": f"{PREFIX}t{i:03d}", "name": f"Bench tenant {i}", "timezone": "UTC"},
                expect=201,
            )
            elapsed = time.monotonic() - started
            progress.update(f"created {i + 1}/{n} ({elapsed / (i + 1):.2f} s/tenant)")
        per_tenant = (time.monotonic() - started) / n
        client.close()
        progress.done(f"created {n} tenants through POST /api/v1/platform/tenants, {per_tenant:.3f} s/tenant")
        self.rows.append(Row("tenants.create", per_tenant, "s/tenant", target="< 1", ok=per_tenant < 1))

        schemas = Tenant.objects.exclude(schema_name=get_public_schema_name()).count()
        progress = Progress("migrate_schemas")
        progress.update(f"manage.py migrate_schemas --tenant over {schemas} tenant schemas…", force=True)
        started = time.monotonic()
        self.manage("migrate_schemas", "--tenant", "--noinput", "-v", "0")
        seconds = time.monotonic() - started
        per_minute = schemas / seconds * 60
        progress.done(f"no-op migrate_schemas over {schemas} tenant schemas in {seconds:.1f}s")
        self.rows.append(
            Row("tenants.migrate_noop", per_minute, "tenants/min", target=">= 300", ok=per_minute >= 300)
        )

    # -- 2. ingest --

    def ingest_events(self, now: datetime) -> Iterator[tuple[str, str, str, datetime, float]]:
        """The ingest benchmark's events, deterministic: (id, rep, type, occurred_at, value)."""
        from scoring.engine.catalog import EVENT_TYPES

        types = sorted(EVENT_TYPES)
        s = self.scale
        run = int(now.timestamp())
        for i in range(s.ingest_events):
            type_name = types[(i * 7919) % len(types)]
            value = float((i * 31) % 101) if type_name == "profile_updated" else 1.0
            yield (
                f"i{run}-{i}",
                f"rep-{1 + (i * 104729) % s.ingest_reps}",
                type_name,
                now - timedelta(seconds=(i * 2654435761) % (2 * 86400)),
                value,
            )

    def bench_ingest(self) -> None:
        s = self.scale
        now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        events = list(self.ingest_events(now))
        bodies: list[tuple[str, str, bytes | None]] = []
        for start in range(0, len(events), BATCH):
            batch = [
                {"id": e[0], "rep": e[1], "type": e[2], "occurred_at": e[3].isoformat(), "value": e[4]}
                for e in events[start : start + BATCH]
            ]
            bodies.append(("POST", "/api/v1/activities", json.dumps({"events": batch}).encode()))
        host, key = self.host(INGEST), self.keys[INGEST]

        # Warm-up: every gunicorn worker imports and connects before the clock starts.
        warm = [
            {"id": f"warm-{i}", "rep": "rep-1", "type": "post_liked", "occurred_at": now.isoformat()}
            for i in range(s.ingest_clients * 4)
        ]
        run_load(
            port=self.stack.port, host=host, key=key, clients=s.ingest_clients, max_seconds=30,
            requests=[("POST", "/api/v1/activities", json.dumps({"events": [e]}).encode()) for e in warm],
        )  # fmt: skip
        self.wait_worker_idle(slug=INGEST)
        copy_rate = self.copy_baseline(events, now)
        self.checkpoint()

        progress = Progress("ingest")

        def show(result: LoadResult, elapsed: float) -> None:
            done = result.ok * BATCH
            progress.update(f"{done:,}/{len(events):,} events, {done / max(elapsed, 1e-9):,.0f} events/s")

        with WaitSampler(self.env["DATABASE_URL"]) as waits:
            result = run_load(
                port=self.stack.port, host=host, key=key, clients=s.ingest_clients, requests=bodies,
                max_seconds=s.ingest_max_seconds, progress=show, keep_answers=True,
            )  # fmt: skip
        accepted = sum(json.loads(a)["accepted"] for a in result.answers)
        rate = accepted / result.wall
        sent = result.ok * BATCH
        progress.done(
            f"{accepted:,} events accepted in {result.wall:.1f}s ({rate:,.0f} events/s; "
            f"{s.ingest_clients} clients, batches of {BATCH}; batch p50 "
            f"{percentile(result.latencies, 50) * 1000:.0f} ms, p99 {percentile(result.latencies, 99) * 1000:.0f} ms)"
        )
        say(f"  ingest: database during the run: {waits.summary()}")
        if result.errors:
            self.errors.extend(f"ingest: {e}" for e in result.errors[:5])
            say(f"  ingest: {len(result.errors)} failed requests, e.g. {result.errors[0]}")
        if accepted != sent:
            self.errors.append(f"ingest: {sent:,} events answered but {accepted:,} accepted")

        drain = Progress("ingest")
        drain.update("waiting for the worker to evaluate the queued reps…", force=True)
        drained = self.wait_worker_idle(slug=INGEST)
        drain.done(f"the worker finished the badge evaluations {drained:.1f}s after the last answer")
        self.vacuum(INGEST, "the ingested rows")

        ratio = rate / copy_rate
        self.rows += [
            Row("ingest.throughput", rate, "events/s", copy_rate, ratio,
                ">= 20000/s and ratio >= 0.1", rate >= 20_000 and ratio >= 0.1),
            Row("ingest.batch_p50", percentile(result.latencies, 50) * 1000, "ms"),
            Row("ingest.batch_p99", percentile(result.latencies, 99) * 1000, "ms"),
            Row("ingest.evaluation_drain", drained, "s"),
        ]  # fmt: skip

    def copy_baseline(self, events: list[tuple[str, str, str, datetime, float]], now: datetime) -> float:
        """The same rows, as the ingest statement writes them, by one bare psycopg COPY into
        a scratch copy of ``scoring_activity`` (same columns, constraints and indexes)."""
        import psycopg
        from psycopg import sql

        from tenants.models import Tenant

        tenant = Tenant.objects.get(slug=INGEST)
        tz = ZoneInfo(tenant.timezone)
        schema = tenant.schema_name
        progress = Progress("ingest baseline")
        progress.update(f"COPY of {len(events):,} rows…", force=True)
        scratch = sql.Identifier(schema, "bench_copy_activity")
        like = sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
            scratch, sql.Identifier(schema, "scoring_activity")
        )
        statement = sql.SQL(
            "COPY {} (event_id, rep_id, type, occurred_at, local_day, value, metadata, ingested_at) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(scratch)
        types = ["varchar", "int8", "varchar", "timestamptz", "date", "float8", "jsonb", "timestamptz"]
        timings = []
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            reps: dict[str, int] = dict(
                conn.execute(
                    sql.SQL("SELECT external_id, id FROM {}").format(sql.Identifier(schema, "scoring_rep"))
                )
            )
            ingested_at = datetime.now(UTC)
            rows = [
                (event_id, reps[rep], type_name, at, at.astimezone(tz).date(), value, None, ingested_at)
                for event_id, rep, type_name, at, value in events
            ]
            # The faster of two, each into a new empty table: a baseline is what can be had.
            for _ in range(2):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(scratch))
                conn.execute(like)
                self.checkpoint()
                started = time.perf_counter()
                with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
                timings.append(time.perf_counter() - started)
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

    # -- 3. recompute --

    def bench_recompute(self) -> None:
        from django_tenants.utils import tenant_context

        from scoring.selectors import local_yesterday
        from scoring.services.config import scoring_config_current
        from tenants.db import connection
        from tenants.models import Tenant

        tenant = Tenant.objects.get(slug=BIG)
        day = local_yesterday(tenant.timezone)
        self.wait_worker_idle()

        progress = Progress("recompute baseline")
        with tenant_context(tenant):
            window = scoring_config_current().config.window_days
            first = day - timedelta(days=window - 1)
            timings = []
            for _ in range(2):  # the faster of two: the first may read from disk
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT rep_id, type, count(*), sum(value) FROM scoring_activity "
                        "WHERE local_day BETWEEN %s AND %s GROUP BY rep_id, type",
                        [first, day],
                    )
                    groups = len(cursor.fetchall())
                timings.append(time.perf_counter() - started)
            cursor_count = None
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM scoring_activity WHERE local_day BETWEEN %s AND %s", [first, day]
                )
                cursor_count = cursor.fetchone()[0]
        baseline = min(timings)
        progress.done(
            f"GROUP BY rep, type over {cursor_count:,} events ({window} days to {day}): "
            f"{groups:,} groups in {baseline:.2f}s"
        )

        # The tenant's first nightly awards every badge its 90 days of history earned (tens of
        # thousands at the default scale): run it for the day before, untimed as the measure, so
        # that the timed run is the everyday nightly, whose awards are the day's few.
        progress = Progress("recompute")
        progress.update(
            f"first nightly job for {BIG} ({day - timedelta(days=1)}, awards the history's badges)…"
        )
        warm, warm_rss, _ = self.nightly(day - timedelta(days=1))
        progress.done(
            f"first nightly ({day - timedelta(days=1)}): {warm['seconds']:.2f}s, hooks {warm['hook_seconds']:.2f}s, "
            f"{warm['awards']:,} badges awarded, peak RSS {warm_rss:.0f} MiB"
        )
        self.wait_worker_idle()  # the awards' webhook fan-out (no subscription here, but a task each)
        progress.update(f"nightly job for {BIG} {day} in a subprocess…", force=True)
        report, rss_mib, wall = self.nightly(day, profile=bool(os.environ.get("BENCH_PROFILE")))
        seconds = float(report["seconds"])
        ratio = seconds / baseline
        progress.done(
            f"{report['reps']:,} reps scored, ranked, snapshotted and badge-evaluated in {seconds:.2f}s "
            f"(hooks {report['hook_seconds']:.2f}s, {report['awards']:,} badges awarded; "
            f"process {wall:.1f}s, peak RSS {rss_mib:.0f} MiB)"
        )
        peak = max(rss_mib, warm_rss)
        self.rows += [
            Row("recompute.nightly", seconds, "s", baseline, ratio, "ratio <= 3", ratio <= 3),
            Row("recompute.day_scored_hooks", float(report["hook_seconds"]), "s"),
            Row("recompute.first_nightly", float(warm["seconds"]), "s"),
            Row("recompute.peak_rss", peak, "MiB", target="< 1024", ok=peak < 1024),
        ]

    def nightly(self, day: date, *, profile: bool = False) -> tuple[dict[str, Any], float, float]:
        """``python -m bench.nightly`` for ``day``: its report, its peak RSS in MiB (its own
        ``VmHWM``) and the process's wall time."""
        self.checkpoint()
        log = self.stack.data_dir / "nightly.log"
        out = self.stack.data_dir / "nightly.json"
        command = [sys.executable, "-m", "bench.nightly", "--tenant", BIG, "--date", day.isoformat()]
        if profile:
            command += ["--profile", str(BASE_DIR / "bench" / "profile-recompute.txt")]
        started = time.monotonic()
        with open(out, "wb") as stdout, open(log, "wb") as stderr:
            proc = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=stdout, stderr=stderr)
            try:
                proc.wait()
            except BaseException:
                proc.kill()
                proc.wait()
                raise
        wall = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(f"bench.nightly exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        report: dict[str, Any] = json.loads(out.read_text().strip().splitlines()[-1])
        return report, report["peak_rss_kib"] / 1024, wall

    # -- 4. reads --

    def reads_prepare(self) -> None:
        """The reads need a scored day on ``bench-big``: when the recompute phase did not run
        (``BENCH_ONLY=reads``), one nightly job for yesterday (untimed) scores it, as that
        phase's first nightly would.

        Its synthetic history was vacuumed once built (``big_create``)."""
        from django_tenants.utils import tenant_context

        from scoring.models import ScoredDay
        from scoring.selectors import local_yesterday
        from tenants.models import Tenant

        tenant = Tenant.objects.get(slug=BIG)
        with tenant_context(tenant):
            scored = ScoredDay.objects.exists()
        if scored:
            return
        day = local_yesterday(tenant.timezone)
        progress = Progress("reads setup")
        progress.update(f"no scored day on {BIG} (the recompute phase did not run): nightly job for {day}…")
        report, _, _ = self.nightly(day)
        self.wait_worker_idle()
        progress.done(
            f"scored {BIG} for {day} (untimed): {report['reps']:,} reps in {report['seconds']:.1f}s"
        )

    def bench_reads(self) -> None:
        self.reads_prepare()
        s = self.scale
        rng = random.Random(5)
        n = s.reads_per_endpoint
        reps = [f"rep-{rng.randint(1, s.reps)}" for _ in range(n)]
        endpoints: list[tuple[str, str, list[str]]] = [
            ("healthz", "localhost", ["/healthz"] * n),
            ("rep_card", self.host(BIG), [f"/api/v1/reps/{r}" for r in reps]),
            ("rep_ssi", self.host(BIG), [f"/api/v1/reps/{r}/ssi" for r in reps]),
            ("leaderboard_ssi", self.host(BIG), ["/api/v1/leaderboards/ssi"] * n),
        ]
        baseline_rate = 0.0
        for name, host, paths in endpoints:
            key = None if name == "healthz" else self.keys[BIG]
            warm = [("GET", p, None) for p in paths[: s.read_clients * 2]]
            warm_result = run_load(
                port=self.stack.port,
                host=host,
                key=key,
                clients=s.read_clients,
                requests=warm,
                max_seconds=60,
            )
            if warm_result.errors:
                raise RuntimeError(f"{name}: {warm_result.errors[0]}")
            progress = Progress(f"reads {name}")

            def show(result: LoadResult, elapsed: float, progress: Progress = progress) -> None:
                progress.update(f"{result.ok}/{n} requests, {result.ok / max(elapsed, 1e-9):,.0f} req/s")

            result = run_load(
                port=self.stack.port, host=host, key=key, clients=s.read_clients, max_seconds=120,
                requests=[("GET", p, None) for p in paths], progress=show,
            )  # fmt: skip
            if result.errors:
                self.errors.extend(f"reads {name}: {e}" for e in result.errors[:3])
            if not result.latencies:
                raise RuntimeError(f"{name}: no successful request")
            p50 = percentile(result.latencies, 50) * 1000
            p99 = percentile(result.latencies, 99) * 1000
            progress.done(
                f"{result.ok} requests, {s.read_clients} clients: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                f"{result.throughput:,.0f} req/s"
            )
            if name == "healthz":
                baseline_rate = result.throughput
                self.rows += [
                    Row("reads.healthz.p50", p50, "ms"),
                    Row("reads.healthz.p99", p99, "ms"),
                    Row("reads.healthz.throughput", result.throughput, "req/s"),
                ]
                continue
            ratio = result.throughput / baseline_rate if baseline_rate else None
            self.rows += [
                Row(f"reads.{name}.p50", p50, "ms"),
                Row(f"reads.{name}.p99", p99, "ms", target="< 50", ok=p99 < 50),
                Row(f"reads.{name}.throughput", result.throughput, "req/s", baseline_rate, ratio,
                    "ratio >= 0.25", ratio is not None and ratio >= 0.25),
            ]  # fmt: skip

    # -- 5. ingest-to-badge latency --

    def bench_badge_latency(self) -> None:
        n = self.scale.badge_samples
        receiver = Receiver()
        receiver.start()
        try:
            client = Client(self.stack.port, host=self.host(BADGE), key=self.keys[BADGE])
            client.json(
                "POST",
                "/api/v1/webhooks",
                {"url": f"http://127.0.0.1:{receiver.port}/hook", "events": ["badge.awarded"]},
                expect=201,
            )
            rng = random.Random(7)
            answered: dict[str, float] = {}
            progress = Progress("badge latency")

            def post_first(rep: str) -> None:
                event = {"id": f"{rep}-p", "rep": rep, "type": "post_published",
                         "occurred_at": datetime.now(UTC).isoformat()}  # fmt: skip
                answer = client.json("POST", "/api/v1/activities", {"events": [event]}, expect=200)
                answered[rep] = time.monotonic()
                if answer["accepted"] != 1:
                    raise RuntimeError(f"{rep}: {answer}")

            # Warm-up: the worker's processes import the evaluation and delivery code.
            post_first("badge-warm")
            receiver.wait_for(["badge-warm"], timeout=60)
            # One new rep's first post every 0.25-0.75 s (the spacing is random so it does not
            # lock onto the broker's polling), without waiting for the previous webhook.
            reps = [f"badge-{i}" for i in range(n)]
            for i, rep in enumerate(reps):
                post_first(rep)
                progress.update(f"{i + 1}/{n} first posts sent, {receiver.count(reps)} webhooks received")
                time.sleep(rng.uniform(0.25, 0.75))
            deadline = time.monotonic() + 60
            while receiver.count(reps) < n and time.monotonic() < deadline:
                progress.update(f"{n}/{n} first posts sent, {receiver.count(reps)} webhooks received")
                time.sleep(0.1)
            client.close()
        finally:
            receiver.stop()
        latencies = [receiver.arrived[r] - answered[r] for r in reps if r in receiver.arrived]
        missing = n - len(latencies)
        if not latencies:
            raise RuntimeError(f"no badge.awarded webhook arrived; worker log:\n{self.stack.tail('worker')}")
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        progress.done(
            f"{len(latencies)}/{n} badge.awarded webhooks: p50 {p50:.2f}s, p95 {p95:.2f}s, max {max(latencies):.2f}s"
        )
        if missing:
            self.errors.append(f"badge latency: {missing} of {n} webhooks did not arrive within 60s")
        self.rows += [
            Row("badge_latency.p50", p50, "s"),
            Row("badge_latency.p95", p95, "s", target="< 2", ok=p95 < 2 and not missing),
        ]


class WaitSampler:
    """What the database's active client backends are doing, sampled every 50 ms while a phase
    runs (``pg_stat_activity``): on CPU, or waiting, and on what. Diagnostics, not a result."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.counts: dict[str, int] = {}
        self.samples = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with contextlib.suppress(psycopg.Error), psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self.stopping.wait(0.05):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity "
                    "WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                ).fetchall()
                for (what,) in rows:
                    self.counts[what] = self.counts.get(what, 0) + 1
                self.samples += 1

    def __enter__(self) -> WaitSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def summary(self, top: int = 4) -> str:
        total = sum(self.counts.values())
        if not total:
            return "no active backend seen"
        busy = total / max(self.samples, 1)
        parts = [
            f"{what} {100 * n / total:.0f}%" for what, n in sorted(self.counts.items(), key=lambda kv: -kv[1])
        ]
        return f"{busy:.1f} active backends on average: " + ", ".join(parts[:top])


class Receiver:
    """A webhook receiver on 127.0.0.1: when each rep's ``first-post`` badge.awarded arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        arrived, lock = self.arrived, self.lock

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(204)
                self.end_headers()
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    payload = json.loads(body)
                    if payload["type"] == "badge.awarded" and payload["data"]["badge"] == "first-post":
                        with lock:
                            arrived.setdefault(payload["data"]["rep"], at)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, reps: list[str]) -> int:
        with self.lock:
            return sum(1 for r in reps if r in self.arrived)

    def wait_for(self, reps: list[str], *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count(reps) < len(reps):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no webhook for {reps} within {timeout:.0f}s")
            time.sleep(0.05)


# --- Output -------------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    def fmt(value: float | None) -> str:
        if value is None:
            return ""
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}"

    header = ("name", "value", "unit", "baseline", "ratio", "target", "ok")
    lines = [
        (r.name, fmt(r.value), r.unit, fmt(r.baseline), fmt(r.ratio), r.target or "",
         "" if r.ok is None else ("yes" if r.ok else "NO"))
        for r in rows
    ]  # fmt: skip
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)
    ]
    right = {1, 3, 4}

    def render(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [render(header), "  ".join("-" * w for w in widths)]
    out += [render(line) for line in lines]
    return "\n".join(out)


def write_results(rows: list[Row]) -> None:
    data = []
    for row in rows:
        item = asdict(row)
        for name in ("value", "baseline", "ratio"):
            item[name] = rounded(item[name], 4)
        data.append(item)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


# --- Main ---------------------------------------------------------------------------------------------


def main() -> int:
    os.chdir(BASE_DIR)
    scale_name = os.environ.get("BENCH_SCALE", "default").strip() or "default"
    if scale_name not in SCALES:
        say(f"BENCH_SCALE must be one of {', '.join(SCALES)}, not {scale_name!r}")
        return 2
    scale = SCALES[scale_name]
    only = [p.strip() for p in os.environ.get("BENCH_ONLY", "").split(",") if p.strip()] or list(PHASES)
    unknown = [p for p in only if p not in PHASES]
    if unknown:
        say(f"BENCH_ONLY takes a comma-separated list of {', '.join(PHASES)}; not {', '.join(unknown)}")
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

    from config.processes import EmbeddedPostgres

    postgres = EmbeddedPostgres()
    database_url = os.environ.get("DATABASE_URL", "").strip()
    if not database_url:
        database_url = postgres.start()
    started_postgres = postgres.started_here

    info = machine()
    say(
        f"SSI Cloud benchmarks, scale {scale.name}: {scale.reps:,} reps x {scale.days} days, "
        f"{scale.ingest_events:,} ingest events, {scale.tenants} tenants, "
        f"{scale.reads_per_endpoint} reads per endpoint, {scale.badge_samples} badge samples"
    )
    say(
        f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB memory, "
        f"Python {info['python']}; database: "
        + (
            "DATABASE_URL"
            if not started_postgres and os.environ.get("DATABASE_URL")
            else "embedded PostgreSQL"
        )
    )

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Also SIGINT: a shell that starts us in the background leaves it ignored, and the children
    # (gunicorn, celery) would still get a group's Ctrl-C and stop under our feet.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    run_started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ssi-bench-") as tmp:
        env = bench_env(database_url=database_url, data_dir=Path(tmp))
        # This process uses the same database and private broker as the stack it starts.
        os.environ.update(
            {k: env[k] for k in ("DATABASE_URL", "SSI_DATA_DIR", "REDIS_URL", "CELERY_BROKER_URL")}
        )
        os.environ.setdefault("DJANGO_DEBUG", "false")
        bench = Bench(scale=scale, env=env, stack=Stack(env=env, data_dir=Path(tmp)))
        phases = [(name, getattr(bench, f"bench_{key}")) for key, name in PHASES.items() if key in only]
        code = 0
        try:
            say("\n== setup")
            bench.manage("setup_db", "-v", "0")
            import django

            django.setup()
            logging.getLogger().setLevel(logging.WARNING)  # this process's own INFO lines are noise here
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                say(f"  PostgreSQL {cursor.fetchone()[0]}; database up to date")
            removed = bench.tenants_cleanup()
            if removed:
                say(f"  deleted {removed} bench-* tenant(s) left over by an earlier run")
            bench.prepare_data(big=bool({"recompute", "reads"} & set(only)))
            bench.stack.start()
            say(f"  gunicorn (2 workers) on 127.0.0.1:{bench.stack.port}, Celery worker (prefork, 2) ready")

            for name, body in phases:
                bench.phase(name, body)
        except KeyboardInterrupt:
            say("\ninterrupted")
            code = 130
        except Exception as exc:
            traceback.print_exc()
            bench.errors.append(f"run stopped: {_first_line(exc)}")
        finally:
            say("\n== cleanup")
            bench.stack.stop()
            with contextlib.suppress(Exception):
                removed = bench.tenants_cleanup()
                say(f"  stopped gunicorn and the worker; deleted {removed} bench-* tenants")
            if started_postgres:
                stopped = postgres.stop()
                say(
                    "  stopped the embedded PostgreSQL"
                    if stopped
                    else "  the embedded PostgreSQL was stopped already"
                )

    if bench.rows:
        write_results(bench.rows)
        say(f"\nResults ({scale.name} scale, {info['nproc']} CPUs, {info['memory_gib']} GiB; "
            f"{time.monotonic() - run_started:.0f}s in all):\n")  # fmt: skip
        say(table(bench.rows))
        missed = [r.name for r in bench.rows if r.ok is False]
        say(
            f"\nwrote {RESULTS.relative_to(BASE_DIR)}; "
            + (f"missed: {', '.join(missed)}" if missed else "all targets met")
        )
    if bench.errors:
        say("\nerrors:\n  " + "\n  ".join(bench.errors))
        return code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
