"""``make bench``: benchmarks of SSI Cloud on the real stack, against baselines measured in the same run.

``python -m bench.run`` (``BENCH_SCALE=small|default``). See bench/README.md.

1. PostgreSQL: ``DATABASE_URL``, else the embedded server (started if needed,
   stopped at the end if this run started it). ``setup_db`` brings it up to date.
2. Data: ``bench-*`` tenants (left-overs of an earlier run are deleted first):
   ``bench-big`` (reps x days of synthetic activity, ``bench.data``),
   ``bench-ingest`` (reps, no events) and ``bench-badge`` (empty); ``bench.prepare``.
3. gunicorn (2 workers) and one Celery worker (prefork, 2 processes) on a
   private filesystem broker (``bench.stack``, on ``config.processes``).
4. The measures (``bench.phases``), each with its baseline: tenants, ingest,
   recompute, reads, console pages, ingest-to-badge latency, contests, many tenants
   (``BENCH_TENANTS``). A table, and ``bench/results.json``.
5. Everything it started is stopped and every ``bench-*`` tenant deleted, also
   on Ctrl-C or an error. Exit code 0 when the run worked, targets met or not.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.context import Context, first_line, say
from bench.machine import database_settings, machine
from bench.phases import PHASES
from bench.phases.console import pages_from_env as console_pages
from bench.prepare import prepare_data, tenants_cleanup
from bench.results import RESULTS, table, write_results
from bench.scales import SCALES, Scale
from bench.stack import Stack, bench_env
from config import processes
from config.embedded import BASE_DIR
from config.processes import EmbeddedPostgres


def main() -> int:
    os.chdir(BASE_DIR)
    scale = scale_from_env()
    if scale is None:
        return 2
    only = phases_from_env()
    if only is None:
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    database_url, postgres = database()
    info = machine() | database_settings(database_url)
    announce(scale, info, postgres)
    # Also SIGINT: a shell that starts us in the background leaves it ignored, and the children
    # (gunicorn, celery) would still get a group's Ctrl-C and stop under our feet.
    processes.interrupt_on(signal.SIGTERM, signal.SIGINT)
    run_started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ssi-bench-") as tmp:
        ctx = context(scale, database_url, Path(tmp))
        code = run_all(ctx, only, postgres)
    return report(ctx, info, time.monotonic() - run_started, code)


# --- Settings and database ----------------------------------------------------------------------------


def scale_from_env() -> Scale | None:
    """``BENCH_SCALE`` (default: ``default``); None, having said why, when it names no scale."""
    name = os.environ.get("BENCH_SCALE", "default").strip() or "default"
    if name not in SCALES:
        say(f"BENCH_SCALE must be one of {', '.join(SCALES)}, not {name!r}")
        return None
    return SCALES[name]


def phases_from_env() -> list[str] | None:
    """``BENCH_ONLY=ingest,reads`` runs only these phases (in their usual order, whatever order
    they are named in); every phase when unset. None, having said why, on an unknown name (of a
    phase, or of a console page in ``BENCH_CONSOLE_PAGES``)."""
    only = [p.strip() for p in os.environ.get("BENCH_ONLY", "").split(",") if p.strip()] or list(PHASES)
    unknown = [p for p in only if p not in PHASES]
    if unknown:
        say(f"BENCH_ONLY takes a comma-separated list of {', '.join(PHASES)}; not {', '.join(unknown)}")
        return None
    if "console" in only:
        try:
            console_pages()  # BENCH_CONSOLE_PAGES checked now, not after the data is built
        except RuntimeError as exc:
            say(str(exc))
            return None
    return only


def database() -> tuple[str, EmbeddedPostgres | None]:
    """``DATABASE_URL``, else the embedded server's (started if needed). The embedded server
    comes back only when this run started it: the one to stop at the end."""
    database_url = os.environ.get("DATABASE_URL", "").strip()
    if database_url:
        return database_url, None
    postgres = EmbeddedPostgres()
    database_url = postgres.start()
    return database_url, postgres if postgres.started_here else None


def announce(scale: Scale, info: dict[str, Any], postgres: EmbeddedPostgres | None) -> None:
    say(
        f"SSI Cloud benchmarks, scale {scale.name}: {scale.reps:,} reps x {scale.days} days, "
        f"{scale.ingest_events:,} ingest events, {scale.tenants} tenants, "
        f"{scale.reads_per_endpoint} reads per endpoint, {scale.console_reads_per_page} per console page, "
        f"{scale.badge_samples} badge samples"
    )
    uses_url = postgres is None and os.environ.get("DATABASE_URL")
    say(
        f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB memory, "
        f"Python {info['python']}; database: "
        + ("DATABASE_URL" if uses_url else "the embedded server")
        + f", PostgreSQL {info['postgres']}, shared_buffers {info['shared_buffers_mib']:,} MiB"
    )


def context(scale: Scale, database_url: str, data_dir: Path) -> Context:
    """The run's context, its stack's data in ``data_dir``. This process uses the same
    database and private broker as the stack it starts."""
    env = bench_env(database_url=database_url, data_dir=data_dir)
    # This process enqueues too (the tenants_at_scale phase runs the nightly dispatcher): no jitter.
    shared = ("DATABASE_URL", "SSI_DATA_DIR", "REDIS_URL", "CELERY_BROKER_URL", "SSI_DISPATCH_JITTER_SECONDS")
    os.environ.update({k: env[k] for k in shared})
    os.environ.setdefault("DJANGO_DEBUG", "false")
    return Context(scale=scale, env=env, stack=Stack(env=env, data_dir=data_dir))


# --- The run ------------------------------------------------------------------------------------------


def run_all(ctx: Context, only: list[str], postgres: EmbeddedPostgres | None) -> int:
    """Setup, the phases in ``only`` in their order, cleanup (always). 130 on Ctrl-C, else 0:
    an error that stops the run is in ``ctx.errors``."""
    code = 0
    try:
        setup(ctx, big=bool({"recompute", "reads", "console", "contests"} & set(only)))
        for key, (title, body) in PHASES.items():
            if key in only:
                run_phase(ctx, title, body)
    except KeyboardInterrupt:
        say("\ninterrupted")
        code = 130
    except Exception as exc:
        traceback.print_exc()
        ctx.errors.append(f"run stopped: {first_line(exc)}")
    finally:
        cleanup(ctx, postgres)
    return code


def setup(ctx: Context, *, big: bool) -> None:
    """The database up to date, Django in this process, the tenants, then the stack."""
    say("\n== setup")
    ctx.manage("setup_db", "-v", "0")
    import django

    django.setup()
    logging.getLogger().setLevel(logging.WARNING)  # this process's own INFO lines are noise here
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        say(f"  PostgreSQL {cursor.fetchone()[0]}; database up to date")
    removed = tenants_cleanup()
    if removed:
        say(f"  deleted {removed} bench-* tenant(s) left over by an earlier run")
    prepare_data(ctx, big=big)
    ctx.stack.start()
    say(f"  gunicorn (2 workers) on 127.0.0.1:{ctx.stack.port}, Celery worker (prefork, 2) ready")


def run_phase(ctx: Context, title: str, body: Callable[[Context], None]) -> None:
    """One phase; its error is recorded and the run goes on, unless the stack died with it
    (every next phase needs gunicorn and the worker)."""
    say(f"\n== {title}")
    started = time.monotonic()
    try:
        body(ctx)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        ctx.errors.append(f"{title}: {first_line(exc)}")
        say(f"  {title} FAILED: {exc}")
        traceback.print_exc()
        ctx.stack.check_alive()
    say(f"  ({title}: {time.monotonic() - started:.1f}s)")


def cleanup(ctx: Context, postgres: EmbeddedPostgres | None) -> None:
    say("\n== cleanup")
    ctx.stack.stop()
    say("  stopped gunicorn and the worker")
    try:
        say(f"  deleted {tenants_cleanup()} bench-* tenants")
    except KeyboardInterrupt:  # the results are still reported
        say("\n  cleanup interrupted: the next run deletes the bench-* tenants left")
    except Exception:  # as before: the next run's setup deletes them
        pass
    if postgres is not None:
        say(
            "  stopped the embedded PostgreSQL"
            if postgres.stop()
            else "  the embedded PostgreSQL was stopped already"
        )


def report(ctx: Context, info: dict[str, Any], seconds: float, code: int) -> int:
    """The table and ``results.json`` (when a phase measured anything), then the errors.
    The exit code: ``code``, else 1 when there was an error."""
    if ctx.rows:
        write_results(ctx.rows)
        say(f"\nResults ({ctx.scale.name} scale, {info['nproc']} CPUs, {info['memory_gib']} GiB, "
            f"PostgreSQL {info['postgres']} with shared_buffers {info['shared_buffers_mib']:,} MiB; "
            f"{seconds:.0f}s in all):\n")  # fmt: skip
        say(table(ctx.rows))
        missed = [r.name for r in ctx.rows if r.ok is False]
        say(
            f"\nwrote {RESULTS.relative_to(BASE_DIR)}; "
            + (f"missed: {', '.join(missed)}" if missed else "all targets met")
        )
    if ctx.errors:
        say("\nerrors:\n  " + "\n  ".join(ctx.errors))
        return code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
