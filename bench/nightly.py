"""One nightly recompute of a tenant's day, as the worker runs it, in its own process.

``python -m bench.nightly --tenant bench-big [--date YYYY-MM-DD] [--profile FILE]``

Creates a ``nightly`` job for the day (default: the tenant's local yesterday)
and runs it with ``job_run``, exactly what ``scoring.tasks.run_job`` does for
the nightly dispatcher: scores, ranks and snapshots, then (on commit) the
day-scored hooks: badge evaluation for every active rep, goals and
``scores.computed``. Prints one JSON line: the job's wall time, the part spent
in the day-scored hooks, the badges it awarded, and this process's peak RSS
(``VmHWM``). ``--profile`` writes the
top of a cProfile (by cumulative time) to FILE.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import time
from datetime import date
from typing import Any


def peak_rss_kib() -> int:
    """This process's own peak RSS: ``VmHWM``. Not ``ru_maxrss``, which Linux carries over an
    exec from the process that spawned us (the bench's, hundreds of MB at the default scale)."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the best there is


def time_day_scored_hooks() -> list[float]:
    """Count the time of the day-scored hooks (badges, goals, scores.computed) apart from the
    scoring itself: each is wrapped; the returned one-item list holds their seconds so far."""
    from scoring import hooks

    hook_seconds = [0.0]

    def timed(hook: Any) -> Any:
        def wrapper(**kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return hook(**kwargs)
            finally:
                hook_seconds[0] += time.perf_counter() - t0

        return wrapper

    hooks._day_scored[:] = [timed(h) for h in hooks._day_scored]
    return hook_seconds


def write_profile(profiler: cProfile.Profile, path: str) -> None:
    """The top of the profile, by cumulative then by own time, to ``path``."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    with open(path, "w") as handle:
        handle.write(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--date")
    parser.add_argument("--profile")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()

    from django_tenants.utils import tenant_context

    from core.clock import local_yesterday
    from gamification.models import BadgeAward
    from scoring.models import Job
    from scoring.services.jobs import job_run
    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug=args.tenant)
    day = date.fromisoformat(args.date) if args.date else local_yesterday(tenant.timezone)
    hook_seconds = time_day_scored_hooks()

    profiler = cProfile.Profile() if args.profile else None
    with tenant_context(tenant):
        job = Job.objects.create(kind="nightly", params={"days": [day.isoformat()]})
        awards_before = BadgeAward.objects.count()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        finished = job_run(tenant=tenant, job_id=str(job.id))
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        awards = BadgeAward.objects.count() - awards_before
    if finished is None or finished.status != Job.Status.SUCCEEDED:
        raise SystemExit(f"the nightly job did not succeed: {finished and finished.status}")
    if profiler and args.profile:
        write_profile(profiler, args.profile)
    print(
        json.dumps(
            {
                "tenant": tenant.slug,
                "day": day.isoformat(),
                "reps": sum(finished.result.get("reps_scored", {}).values()),
                "seconds": round(seconds, 3),
                "hook_seconds": round(hook_seconds[0], 3),
                "awards": awards,
                "peak_rss_kib": peak_rss_kib(),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
