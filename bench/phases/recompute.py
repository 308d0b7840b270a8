"""Phase ``recompute``: one everyday nightly job for ``bench-big``'s yesterday, in its own process
(``bench.nightly``), against one bare GROUP BY over the scoring window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from bench.client import Progress
from bench.context import BIG, Context
from bench.database import checkpoint
from bench.results import Row
from config.embedded import BASE_DIR

if TYPE_CHECKING:
    from tenants.models import Tenant


def run(ctx: Context) -> None:
    from core.clock import local_yesterday
    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug=BIG)
    day = local_yesterday(tenant.timezone)
    ctx.wait_worker_idle()
    baseline = group_by_baseline(tenant, day)
    progress = Progress("recompute")
    warm, warm_rss = first_nightly(ctx, day - timedelta(days=1), progress)
    ctx.wait_worker_idle()  # the awards' webhook fan-out (no subscription here, but a task each)
    report, rss_mib = timed_nightly(ctx, day, progress)
    seconds = float(report["seconds"])
    ratio = seconds / baseline
    peak = max(rss_mib, warm_rss)
    ctx.rows += [
        Row("recompute.nightly", seconds, "s", baseline, ratio, "ratio <= 3", ratio <= 3),
        Row("recompute.day_scored_hooks", float(report["hook_seconds"]), "s"),
        Row("recompute.first_nightly", float(warm["seconds"]), "s"),
        Row("recompute.peak_rss", peak, "MiB", target="< 1024", ok=peak < 1024),
    ]


def group_by_baseline(tenant: Tenant, day: date) -> float:
    """Seconds of one bare ``GROUP BY rep_id, type`` over the scoring window to ``day``, all rows
    fetched: the faster of two runs (the first may read from disk)."""
    from django_tenants.utils import tenant_context

    from core.db import connection
    from scoring.services.config import scoring_config_current

    progress = Progress("recompute baseline")
    with tenant_context(tenant):
        window = scoring_config_current().config.window_days
        first = day - timedelta(days=window - 1)
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT rep_id, type, count(*), sum(value) FROM scoring_activity "
                    "WHERE local_day BETWEEN %s AND %s GROUP BY rep_id, type",
                    [first, day],
                )
                groups = len(cursor.fetchall())
            timings.append(time.perf_counter() - started)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM scoring_activity WHERE local_day BETWEEN %s AND %s", [first, day]
            )
            events = cursor.fetchone()[0]
    baseline = min(timings)
    progress.done(
        f"GROUP BY rep, type over {events:,} events ({window} days to {day}): "
        f"{groups:,} groups in {baseline:.2f}s"
    )
    return baseline


def first_nightly(ctx: Context, day: date, progress: Progress) -> tuple[dict[str, Any], float]:
    """The tenant's first nightly awards every badge its history earned (tens of thousands at
    the default scale): run for the day before, untimed as the measure, so that the timed run
    is the everyday nightly, whose awards are the day's few. Its report and peak RSS (MiB)."""
    progress.update(f"first nightly job for {BIG} ({day}, awards the history's badges)…")
    warm, warm_rss, _ = nightly_run(ctx, day)
    progress.done(
        f"first nightly ({day}): {warm['seconds']:.2f}s, hooks {warm['hook_seconds']:.2f}s, "
        f"{warm['awards']:,} badges awarded, peak RSS {warm_rss:.0f} MiB"
    )
    return warm, warm_rss


def timed_nightly(ctx: Context, day: date, progress: Progress) -> tuple[dict[str, Any], float]:
    """The measure: the nightly job for ``day`` (profiled when ``BENCH_PROFILE`` is set)."""
    progress.update(f"nightly job for {BIG} {day} in a subprocess…", force=True)
    report, rss_mib, wall = nightly_run(ctx, day, profile=bool(os.environ.get("BENCH_PROFILE")))
    progress.done(
        f"{report['reps']:,} reps scored, ranked, snapshotted and badge-evaluated in "
        f"{float(report['seconds']):.2f}s (hooks {report['hook_seconds']:.2f}s, "
        f"{report['awards']:,} badges awarded; process {wall:.1f}s, peak RSS {rss_mib:.0f} MiB)"
    )
    return report, rss_mib


def nightly_run(ctx: Context, day: date, *, profile: bool = False) -> tuple[dict[str, Any], float, float]:
    """``python -m bench.nightly`` for ``day``, after a CHECKPOINT: its report, its peak RSS in
    MiB (its own ``VmHWM``) and the process's wall time."""
    checkpoint(ctx.database_url)
    log = ctx.stack.data_dir / "nightly.log"
    out = ctx.stack.data_dir / "nightly.json"
    command = [sys.executable, "-m", "bench.nightly", "--tenant", BIG, "--date", day.isoformat()]
    if profile:
        command += ["--profile", str(BASE_DIR / "bench" / "profile-recompute.txt")]
    started = time.monotonic()
    with open(out, "wb") as stdout, open(log, "wb") as stderr:
        proc = subprocess.Popen(command, cwd=BASE_DIR, env=ctx.env, stdout=stdout, stderr=stderr)
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
