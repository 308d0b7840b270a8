"""Phase ``tenants_at_scale``: the platform holding many small tenants (``BENCH_TENANTS``; 2,000 at
the default scale, 20 at the small one) of 25 reps x 90 days (30 small), about 1.1 events per rep
and day, so that 2,000 of them hold about as many events as ``bench-big``.

Each measure has its baseline in the same run. Before each timed step the tables the previous
step wrote are vacuumed (``bench.database.settle``), untimed: otherwise autovacuum works through
thousands of small tenants' tables during the step that follows, on the same cores.

* **nightly**: every tenant's nightly recompute through the real dispatcher
  (``scoring.tasks.dispatch_nightly``, called here as beat would) and the stack's worker, from the
  dispatch to the last job's end; against the same for ``bench-one``, one tenant holding as many
  reps and events as all of them. Both are first nightlies (they award their histories' badges):
  the same work on either side. Target: at most twice the one tenant's.
* **compute_benchmarks** for yesterday across every tenant, when the command exists (it is built
  apart; the row says so when it is not there). Target: under 60 s.
* **reads**: the rep card, ``/ssi`` and the SSI leaderboard, each read spread over every tenant
  (as many reads as the reads phase, at least one per tenant), against the same reads on one of
  them, same gunicorn workers, same clients. The spread reads are the workers' first visit to
  most tenants. Target: p99 at most 1.5 times the one tenant's.
* **memory** of the gunicorn workers (the larger one's RSS): after the one-tenant reads, after a
  first pass over every tenant and after a second. Target: the second pass adds at most a tenth
  of what the first added (at least 1 MiB of slack): what a worker keeps per tenant is bounded.
* **migration**: ``manage.py migrate_tenants`` over the phase's tenants with a real migration: a
  new column with a default and an index on ``scoring_rep`` (bench/tenant_migration.py). That
  migration exists only in the bench: it is not in any app's migration module, so the template,
  the product's tables and every other tenant never see it, and the tenants it changed are
  dropped at the end of the run; yet it goes through Django's schema editor and
  ``django_migrations`` like a product migration, on tables holding rows. The first run is
  interrupted (SIGINT) a third of the way; the second must do only what is left. Target: at
  least 600 tenants a minute (the second run's migrated schemas over its time, its checks of the
  schemas already done included). The catalog's size per tenant is reported with it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench.client import LoadResult, Progress, percentile, run_load
from bench.context import PREFIX, Context
from bench.database import checkpoint, settle
from bench.results import Row
from config.embedded import BASE_DIR
from config.processes import MIB, shared_buffers_bytes

MANY_PREFIX = f"{PREFIX}m"  # bench-m0000 …
SCHEMA_PREFIX = PREFIX.replace("-", "_")  # every bench tenant's schema: bench_m0000, bench_one, …
ONE = f"{PREFIX}one"
REPS_PER_TENANT = 25
EVENTS_PER_REP_DAY = 1.1
MIGRATION = "bench.tenant_migration"
READS = ("rep_card", "rep_ssi", "leaderboard_ssi")


# --- Pure helpers -------------------------------------------------------------------------------


def tenants_from_env(environ: dict[str, str], default: int) -> int:
    """``BENCH_TENANTS`` (default: the scale's); ValueError on anything but a whole number >= 2."""
    raw = environ.get("BENCH_TENANTS", "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 2:
        raise ValueError(f"BENCH_TENANTS must be a whole number of at least 2, not {raw!r}")
    return int(raw)


def slugs(n: int) -> list[str]:
    return [f"{MANY_PREFIX}{i:04d}" for i in range(n)]


def read_path(name: str, rep: int) -> str:
    return {
        "rep_card": f"/api/v1/reps/rep-{rep}",
        "rep_ssi": f"/api/v1/reps/rep-{rep}/ssi",
        "leaderboard_ssi": "/api/v1/leaderboards/ssi",
    }[name]


def spread_reads(name: str, tenants: Sequence[str], n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` reads (at least one per tenant) as (tenant, path): every tenant in turn, in an order
    shuffled once, a random rep each time."""
    rng = random.Random(seed)
    order = list(tenants)
    rng.shuffle(order)
    count = max(n, len(order))
    return [(order[i % len(order)], read_path(name, rng.randint(1, REPS_PER_TENANT))) for i in range(count)]


def nightly_row(many_seconds: float, one_seconds: float, tenants: int) -> Row:
    ratio = many_seconds / one_seconds
    return Row(f"tenants_at_scale.nightly_{tenants}", many_seconds, "s", one_seconds, ratio,
               "ratio <= 2", ratio <= 2)  # fmt: skip


def compute_benchmarks_row(seconds: float | None) -> Row:
    if seconds is None:  # the command is not there (yet): the row says so, with no figure
        return Row("tenants_at_scale.compute_benchmarks", None, "s (no command)", target="< 60")
    return Row("tenants_at_scale.compute_benchmarks", seconds, "s", target="< 60", ok=seconds < 60)


def reads_rows(name: str, one: Sequence[float], spread: Sequence[float], again: Sequence[float]) -> list[Row]:
    """The p99 of the reads on one tenant (the baseline), spread over every tenant (the measure,
    the workers' first visit to most of them) and spread again (information)."""
    base = percentile(one, 99) * 1000
    p99 = percentile(spread, 99) * 1000
    ratio = p99 / base
    return [
        Row(f"tenants_at_scale.{name}.one_tenant_p99", base, "ms"),
        Row(f"tenants_at_scale.{name}.spread_p99", p99, "ms", base, ratio, "ratio <= 1.5", ratio <= 1.5),
        Row(f"tenants_at_scale.{name}.spread_again_p99", percentile(again, 99) * 1000, "ms"),
    ]


def memory_rows(before_kib: int, first_kib: int, second_kib: int, tenants: int) -> list[Row]:
    """A gunicorn worker's RSS after the one-tenant reads, after a pass over every tenant and
    after a second one: what the first pass added per tenant, and the second pass's growth,
    at most a tenth of the first's (1 MiB at least: allocator noise)."""
    first_growth = (first_kib - before_kib) / 1024
    second_growth = (second_kib - first_kib) / 1024
    bound = max(1.0, first_growth / 10)
    return [
        Row("tenants_at_scale.worker_rss_first_pass", first_kib / 1024, "MiB", before_kib / 1024),
        Row("tenants_at_scale.worker_rss_per_tenant", (first_kib - before_kib) / tenants, "KiB/tenant"),
        Row("tenants_at_scale.worker_rss_second_pass_growth", second_growth, "MiB",
            target=f"<= {bound:.1f}", ok=second_growth <= bound),
    ]  # fmt: skip


@dataclass(frozen=True)
class MigrationRuns:
    tenants: int
    interrupted_at: int | None  # what the first run had reported done when it stopped (None: it finished)
    second: dict[str, Any]  # migrate_tenants --json of the second run
    all_migrated: bool  # every tenant's schema has the column and its record afterwards


def migration_rows(runs: MigrationRuns) -> list[Row]:
    second = runs.second
    rate = second["migrated"] / second["seconds"] * 60 if second["seconds"] and second["migrated"] else 0.0
    resumed = (
        runs.all_migrated
        and second["migrated"] + second["up_to_date"] == runs.tenants
        and (runs.interrupted_at is None or second["up_to_date"] >= runs.interrupted_at)
    )
    return [
        Row("tenants_at_scale.migrate_rate", rate, "tenants/min", target=">= 600", ok=rate >= 600),
        Row("tenants_at_scale.migrate_resumed", float(second["migrated"]), "tenants left",
            float(second["up_to_date"]), target="only what was left", ok=resumed),
    ]  # fmt: skip


PROGRESS_RE = re.compile(r"^(\d+)/(\d+) tenants,")


def progress_done(line: str) -> int | None:
    """The ``n`` of a ``migrate_tenants`` progress line ``n/N tenants, …``; None for other lines."""
    match = PROGRESS_RE.match(line.strip())
    return int(match.group(1)) if match else None


# --- The phase ----------------------------------------------------------------------------------


def run(ctx: Context) -> None:
    n = tenants_from_env(dict(os.environ), ctx.scale.many_tenants)
    days = ctx.scale.many_days
    catalog_before = catalog_bytes()
    keys = build(ctx, n, days)
    catalog_rows(ctx, n, catalog_before)
    day = yesterday()
    one = nightly(ctx, [ONE], day, "one tenant")
    many = nightly(ctx, slugs(n), day, f"{n} tenants")
    ctx.rows.append(nightly_row(many, one, n))
    ctx.rows.append(compute_benchmarks_row(compute_benchmarks(ctx, day)))
    reads(ctx, keys)
    ctx.rows += migration_rows(migrate(ctx, n))


def yesterday() -> date:
    from core.clock import local_yesterday

    return local_yesterday("Europe/Berlin")


def build(ctx: Context, n: int, days: int) -> dict[str, str]:
    """The ``n`` tenants and ``bench-one``, filled set-based in SQL, each due at any hour
    (``recompute_hour`` 0) and shielded from the dispatcher (scored through yesterday) until
    its nightly is measured. Their admin keys, by slug."""
    from bench.data import tenant_fill
    from provisioning.tenants import tenant_create
    from tenants.models import Tenant

    progress = Progress("tenants_at_scale data")
    keys: dict[str, str] = {}
    started = time.monotonic()
    events = 0
    plan = [(slug, REPS_PER_TENANT) for slug in slugs(n)] + [(ONE, REPS_PER_TENANT * n)]
    for i, (slug, reps) in enumerate(plan):
        created = tenant_create(slug=slug, name=f"Bench {slug}", timezone_name="Europe/Berlin")
        keys[slug] = created.admin_key
        events += tenant_fill(
            created.tenant, reps=reps, days=days, events_per_rep_day=EVENTS_PER_REP_DAY, teams=5
        )
        tenant = created.tenant
        Tenant.objects.filter(pk=tenant.pk).update(
            settings={**(tenant.settings or {}), "recompute_hour": 0}, scored_through=yesterday()
        )
        elapsed = time.monotonic() - started
        progress.update(
            f"{i + 1}/{len(plan)} tenants, {events:,} events, {(i + 1) / elapsed * 60:,.0f} tenants/min"
        )
    progress.done(
        f"{n} tenants of {REPS_PER_TENANT} reps x {days} days and {ONE} ({REPS_PER_TENANT * n:,} reps): "
        f"{events:,} events in {time.monotonic() - started:.1f}s"
    )
    return keys


def catalog_bytes() -> int:
    from tenants.schema_migrate import catalog_size

    return catalog_size([]).catalog_bytes


def catalog_rows(ctx: Context, n: int, before: int) -> None:
    """The catalog's growth per tenant schema (the ``n`` tenants and ``bench-one``)."""
    from tenants.models import Tenant
    from tenants.schema_migrate import catalog_size

    schemas = list(Tenant.objects.filter(slug__startswith=MANY_PREFIX).values_list("schema_name", flat=True))
    size = catalog_size(schemas)
    per_tenant = (size.catalog_bytes - before) / (n + 1)
    say_line("catalog", size.line() + f"; grew {per_tenant / 1024:,.0f} KiB per tenant")
    buffers = shared_buffers_bytes(ctx.database_url)
    if size.catalog_bytes > buffers:
        say_line("catalog", f"pg_catalog ({size.catalog_bytes / MIB:,.0f} MiB) is larger than shared_buffers "
                 f"({buffers / MIB:,.0f} MiB): a first visit to a tenant reads its catalog entries from the "
                 "operating system, and the reads and the nightly pay for it (docs/operations.md#postgresql-settings)")  # fmt: skip
    ctx.rows += [
        Row("tenants_at_scale.catalog_per_tenant", per_tenant / 1024, "KiB/tenant"),
        Row("tenants_at_scale.relations_per_tenant", size.relations_per_schema, "relations"),
    ]


def say_line(label: str, text: str) -> None:
    Progress(f"tenants_at_scale {label}").done(text)


def nightly(ctx: Context, tenant_slugs: list[str], day: date, what: str) -> float:
    """Make these tenants due for ``day`` and run the nightly dispatcher in this process (the
    stack's worker runs the jobs it enqueues): seconds from the dispatch to the last job's end."""
    from django.utils import timezone

    from scoring.tasks import dispatch_nightly
    from tenants.models import Tenant

    # This process publishes to the filesystem broker: kombu warns that it has no host name.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    ctx.wait_worker_idle()
    # The other bench-* tenants (the tenants phase's, made through the API) are not due.
    Tenant.objects.filter(slug__startswith=PREFIX).exclude(slug__in=tenant_slugs).update(scored_through=day)
    tenants = Tenant.objects.filter(slug__in=tenant_slugs)
    tenants.update(scored_through=day - timedelta(days=1), nightly_claim_day=None, nightly_claim_at=None)
    schemas = list(tenants.values_list("schema_name", flat=True))
    settle(ctx.database_url, SCHEMA_PREFIX, "the previous step")
    checkpoint(ctx.database_url)
    progress = Progress(f"tenants_at_scale nightly ({what})")
    started_at = timezone.now()
    started = time.monotonic()
    enqueued = dispatch_nightly()
    dispatched = time.monotonic() - started
    note = (
        "" if enqueued == len(schemas) else f" (the dispatcher enqueued {enqueued}: other tenants were due)"
    )
    progress.update(f"dispatched {enqueued} nightly jobs in {dispatched:.1f}s{note}…", force=True)
    timeout = 600 + 5 * len(schemas)
    while True:
        ctx.stack.check_alive()
        left = Tenant.objects.filter(slug__in=tenant_slugs, scored_through__lt=day).count()
        elapsed = time.monotonic() - started
        progress.update(f"{len(schemas) - left}/{len(schemas)} tenants scored, {elapsed:.0f}s")
        if not left:
            status = jobs_status(schemas, started_at)
            if status["done"] == len(schemas):
                break
        elif elapsed > 10 and int(elapsed) % 10 == 0 and jobs_status(schemas, started_at)["failed"]:
            raise RuntimeError(f"a nightly job failed ({what}): see the worker's log")
        if elapsed > timeout:
            raise RuntimeError(f"the nightly of {what} was not done after {timeout}s")
        time.sleep(0.25)
    seconds = (status["last_finished"] - started_at).total_seconds()
    progress.done(
        f"{len(schemas)} tenants' nightly jobs done in {seconds:.2f}s (dispatched in {dispatched:.1f}s){note}"
    )
    return seconds


def jobs_status(schemas: list[str], since: Any) -> dict[str, Any]:
    """Over the nightly jobs created since ``since`` in ``schemas``: how many ended (succeeded or
    failed), how many failed and the last end."""
    from psycopg import sql

    from core.db import connection

    done = failed = 0
    last = None
    for start in range(0, len(schemas), 500):
        union = sql.SQL(" UNION ALL ").join(
            sql.SQL(
                "SELECT status, finished_at FROM {}.scoring_job WHERE kind = 'nightly' AND created_at >= %(since)s"
            ).format(sql.Identifier(schema))
            for schema in schemas[start : start + 500]
        )
        query = sql.SQL(
            "SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed')), count(*) FILTER (WHERE status = 'failed'), "
            "max(finished_at) FROM ({}) j"
        ).format(union)
        with connection.cursor() as cursor:
            cursor.execute(query.as_string(), {"since": since})
            d, f, m = cursor.fetchone()
        done += d
        failed += f
        last = m if last is None or (m is not None and m > last) else last
    return {"done": done, "failed": failed, "last_finished": last}


def compute_benchmarks(ctx: Context, day: date) -> float | None:
    """HOOK: ``manage.py compute_benchmarks --date D`` (built apart): its seconds across every
    tenant, or None, said so, when the command does not exist."""
    from django.core.management import get_commands

    progress = Progress("tenants_at_scale compute_benchmarks")
    if "compute_benchmarks" not in get_commands():
        progress.done("skipped: manage.py has no compute_benchmarks command")
        return None
    from tenants.models import Benchmark

    opted = benchmark_opt_in()
    ctx.wait_worker_idle()
    checkpoint(ctx.database_url)
    progress.update(f"manage.py compute_benchmarks --date {day} ({opted:,} tenants opted in)…", force=True)
    started = time.monotonic()
    ctx.manage("compute_benchmarks", "--date", day.isoformat(), timeout=1800)
    seconds = time.monotonic() - started
    stored = list(Benchmark.objects.filter(day=day).values_list("industry", "companies", "reps"))
    if sum(companies for _, companies, _ in stored) != opted:
        raise RuntimeError(f"compute_benchmarks for {day}: {stored}, not {opted} companies")
    progress.done(
        f"compute_benchmarks for {day} across every tenant in {seconds:.1f}s: "
        + ", ".join(f"{industry} {companies} companies {reps:,} reps" for industry, companies, reps in stored)
    )
    return seconds


BENCH_INDUSTRIES = ("software-it", "banking-finance", "retail", "consulting")


def benchmark_opt_in() -> int:
    """Every ``bench-m*`` tenant and ``bench-one`` take part in the benchmark, in one of four
    industries by turn, so that the reads' ``/ssi`` and rep card carry an industry rank on the
    one tenant as on the many. Returns how many."""
    from django.db.models import Q

    from tenants.models import Tenant

    tenants = list(Tenant.objects.filter(Q(slug__startswith=MANY_PREFIX) | Q(slug=ONE)).order_by("slug"))
    for i, tenant in enumerate(tenants):
        tenant.settings = {**tenant.settings, "industry": BENCH_INDUSTRIES[i % 4], "benchmark": True}
    Tenant.objects.bulk_update(tenants, ["settings"], batch_size=500)
    return len(tenants)


# --- Reads and memory ---------------------------------------------------------------------------


def reads(ctx: Context, keys: dict[str, str]) -> None:
    """The three reads on one tenant, then spread over every tenant twice; the workers' RSS
    after each step."""
    many = [slug for slug in keys if slug != ONE]
    n = ctx.scale.reads_per_endpoint
    ctx.wait_worker_idle()
    settle(ctx.database_url, SCHEMA_PREFIX, "the nightlies")
    one_tenant = many[0]
    one: dict[str, list[float]] = {}
    for i, name in enumerate(READS):
        requests = [
            (one_tenant, read_path(name, random.Random(i).randint(1, REPS_PER_TENANT))) for _ in range(2)
        ]
        load(ctx, keys, requests, f"{name} warm-up")
        rng = random.Random(10 + i)
        requests = [
            (one_tenant, read_path(name, rng.randint(1, REPS_PER_TENANT))) for _ in range(max(n, len(many)))
        ]
        one[name] = load(ctx, keys, requests, f"{name} on {one_tenant}").latencies
    before = worker_rss_kib(ctx)
    passes: list[dict[str, list[float]]] = []
    rss = []
    for p in range(2):
        passes.append(
            {name: load(ctx, keys, spread_reads(name, many, n, seed=100 * p + i), f"{name} over {len(many)} tenants, pass {p + 1}").latencies
             for i, name in enumerate(READS)}
        )  # fmt: skip
        rss.append(worker_rss_kib(ctx))
    for name in READS:
        ctx.rows += reads_rows(name, one[name], passes[0][name], passes[1][name])
    say_line("memory", f"largest gunicorn worker RSS: {before / 1024:.0f} MiB after one tenant's reads, "
             f"{rss[0] / 1024:.0f} MiB after every tenant once, {rss[1] / 1024:.0f} MiB after a second pass")  # fmt: skip
    ctx.rows += memory_rows(before, rss[0], rss[1], len(many))


def load(ctx: Context, keys: dict[str, str], requests: list[tuple[str, str]], what: str) -> LoadResult:
    """``requests`` (tenant, path) by ``read_clients`` clients, each with its tenant's host and key."""
    progress = Progress(f"tenants_at_scale reads {what}")
    total = len(requests)

    def show(result: LoadResult, elapsed: float) -> None:
        progress.update(f"{result.ok}/{total} requests, {result.ok / max(elapsed, 1e-9):,.0f} req/s")

    result = run_load(
        port=ctx.stack.port, host="localhost", key=None, clients=ctx.scale.read_clients, max_seconds=300,
        requests=[("GET", path, None) for _, path in requests], progress=show,
        request_headers=[{"Host": ctx.host(slug), "Authorization": f"Bearer {keys[slug]}"} for slug, _ in requests],
    )  # fmt: skip
    if result.errors:
        raise RuntimeError(f"reads {what}: {result.errors[0]}")
    if "warm-up" not in what:
        progress.done(
            f"{result.ok} requests: p50 {percentile(result.latencies, 50) * 1000:.1f} ms, "
            f"p99 {percentile(result.latencies, 99) * 1000:.1f} ms, {result.throughput:,.0f} req/s"
        )
    return result


def worker_rss_kib(ctx: Context) -> int:
    """The largest RSS (KiB) of gunicorn's workers (the master's children)."""
    master = ctx.stack.procs["gunicorn"].pid
    with open(f"/proc/{master}/task/{master}/children") as handle:
        children = [int(pid) for pid in handle.read().split()]
    sizes = []
    for pid in children:
        with open(f"/proc/{pid}/status") as status:
            sizes += [int(line.split()[1]) for line in status if line.startswith("VmRSS:")]
    if not sizes:
        raise RuntimeError("no gunicorn worker found")
    return max(sizes)


# --- The migration ------------------------------------------------------------------------------


def migrate(ctx: Context, n: int) -> MigrationRuns:
    """``migrate_tenants`` with the bench's migration: interrupted a third of the way, then again."""
    ctx.wait_worker_idle()
    settle(ctx.database_url, SCHEMA_PREFIX, "the reads")
    checkpoint(ctx.database_url)
    command = [sys.executable, "manage.py", "migrate_tenants", "--slug-prefix", MANY_PREFIX, "--extra", MIGRATION,
               "--processes", "2", "--progress-every", str(max(1, n // 50)), "--json"]  # fmt: skip
    progress = Progress("tenants_at_scale migrate")
    progress.update(f"{' '.join(command[1:])} (interrupted at a third)…", force=True)
    interrupted_at = None
    started = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=BASE_DIR, env=ctx.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    output = []
    for line in proc.stdout:
        output.append(line)
        done = progress_done(line)
        if done is not None and interrupted_at is None and done >= (n + 2) // 3:
            proc.send_signal(signal.SIGINT)
            interrupted_at = done
    proc.wait()
    first_wall = time.monotonic() - started
    stopped = next((line.strip() for line in output if line.startswith("interrupted")), None)
    if stopped is None:
        interrupted_at = None
        if proc.returncode != 0:
            raise RuntimeError(f"migrate_tenants exited {proc.returncode}:\n{''.join(output)[-3000:]}")
    progress.done(
        f"first run {stopped or 'finished before the interruption'} ({first_wall:.1f}s, exit {proc.returncode})"
    )
    progress.update("second run…", force=True)
    result = ctx.manage(*command[2:], timeout=3600)
    lines = result.stdout.strip().splitlines()
    second = json.loads(lines[-1])
    for line in lines[-4:-1]:
        progress.done(f"second run: {line}")
    return MigrationRuns(
        tenants=n, interrupted_at=interrupted_at, second=second, all_migrated=every_schema_migrated(n)
    )


def every_schema_migrated(n: int) -> bool:
    """Whether each of the phase's tenant schemas has the migration's column."""
    from core.db import connection
    from tenants.models import Tenant

    schemas = list(Tenant.objects.filter(slug__startswith=MANY_PREFIX).values_list("schema_name", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = ANY(%s) "
            "AND table_name = 'scoring_rep' AND column_name = 'bench_tier'",
            [schemas],
        )
        columns = cursor.fetchone()[0]
    return bool(columns == n and len(schemas) == n)
