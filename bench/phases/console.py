"""Phase ``console``: the console's pages on ``bench-big``, signed in as an admin member, each
fetched ``console_reads_per_page`` times; p95 per page against ``/healthz``'s on the same
server and clients.

The clients are as many as gunicorn has workers, so that a request never queues behind
another: the latency a client sees is the server's time for the page plus the loopback.
``BENCH_CONSOLE_PAGES=overview,reps`` measures only those pages (names as in
``console.catalog``); a page that does not answer 200 (a 404 where it is not built, a redirect
to the sign-in page) is an error of the run, and is not timed.
"""

from __future__ import annotations

import os
import random

from bench.client import LoadResult, Progress, percentile, run_load
from bench.context import BIG, Context
from bench.phases import reads
from bench.results import Row
from bench.stack import WEB_WORKERS
from console.catalog import Page, page_get

# The pages timed (the catalog's names), with the query each is fetched with: the overview, the
# lists, one rep, and the admin pages. (The forms to create a badge or a goal, the weight
# versions and the sign-in page are left out: nothing there grows with the tenant.)
MEASURED: dict[str, str] = {
    "overview": "",
    "reps": "?sort=ssi",
    "rep": "",
    "leaderboards": "",
    "weights": "",
    "badges": "",
    "goals": "",
    "audit": "",
    "webhooks": "",
    "keys": "",
    "members": "",
}
TARGET_MS = 150.0
MEMBER_EMAIL = "bench-console@bench.example"


def run(ctx: Context) -> None:
    pages = pages_from_env()
    reads.prepare(ctx)  # a scored day on bench-big, as the reads need
    headers = {"Cookie": f"{cookie_name()}={member_session()}", "Accept": "text/html"}
    reps = rep_ids()
    healthz = measure(ctx, "healthz", "localhost", ["/healthz"] * ctx.scale.console_reads_per_page, None)
    assert healthz is not None  # /healthz answers, or measure raised
    timed: dict[str, list[float]] = {}
    for page in pages:
        result = measure(ctx, page.name, ctx.host(BIG), paths_of(ctx, page, reps), headers)
        if result is not None:
            timed[page.name] = result.latencies
    ctx.rows += page_rows(healthz.latencies, timed)


def pages_from_env() -> list[Page]:
    """The pages of ``MEASURED``, or of ``BENCH_CONSOLE_PAGES`` (a comma-separated subset)."""
    names = [n.strip() for n in os.environ.get("BENCH_CONSOLE_PAGES", "").split(",") if n.strip()]
    unknown = [n for n in names if n not in MEASURED]
    if unknown:
        raise RuntimeError(
            f"BENCH_CONSOLE_PAGES takes a comma-separated list of {', '.join(MEASURED)}; not {', '.join(unknown)}"
        )
    return [page_get(name) for name in MEASURED if not names or name in names]


def cookie_name() -> str:
    from django.conf import settings

    return str(settings.SSI_CONSOLE_SESSION_COOKIE)


def member_session() -> str:
    """A session of an admin member of ``bench-big``, made in its schema (no password: the
    sign-in page is not what is measured)."""
    from django.contrib.auth.hashers import make_password
    from django_tenants.utils import tenant_context

    from access.models import Member
    from access.sessions import session_start
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(slug=BIG)):
        member, _ = Member.objects.update_or_create(
            email=MEMBER_EMAIL,
            defaults={
                "name": "Bench",
                "role": "admin",
                "status": Member.Status.ACTIVE,
                "password": make_password(None),
            },
        )
        return session_start(member=member)


def rep_ids() -> list[int]:
    """The ids of ``bench-big``'s reps (a rep's console page is ``/console/reps/<id>``)."""
    from django_tenants.utils import tenant_context

    from scoring.models import Rep
    from tenants.models import Tenant

    with tenant_context(Tenant.objects.get(slug=BIG)):
        return list(Rep.objects.order_by("id").values_list("id", flat=True))


def paths_of(ctx: Context, page: Page, reps: list[int]) -> list[str]:
    """``console_reads_per_page`` paths of ``page``: the rep page for random reps of ``bench-big``."""
    n = ctx.scale.console_reads_per_page
    rng = random.Random(7)
    query = MEASURED[page.name]
    return [page.url(rep=str(rng.choice(reps))) + query for _ in range(n)]


def measure(
    ctx: Context, name: str, host: str, paths: list[str], headers: dict[str, str] | None
) -> LoadResult | None:
    """A warm-up of a few requests, then every path. None, with an error of the run, when the
    page does not answer 200."""
    clients = WEB_WORKERS
    warm = run_load(
        port=ctx.stack.port, host=host, key=None, clients=clients, max_seconds=60, headers=headers,
        requests=[("GET", p, None) for p in paths[: clients * 2]],
    )  # fmt: skip
    if warm.errors:
        if name == "healthz":
            raise RuntimeError(f"/healthz: {warm.errors[0]}")
        answered = ", ".join(f"HTTP {status}" for status in sorted(warm.statuses) if not 200 <= status < 300)
        problem = f"GET {paths[0]} answered {answered or warm.errors[0][:200]}, not 200"
        ctx.errors.append(f"console {name}: {problem} (BENCH_CONSOLE_PAGES limits the pages measured)")
        Progress(f"console {name}").done(f"FAILED, not timed: {problem}")
        return None
    progress = Progress(f"console {name}")

    def show(result: LoadResult, elapsed: float) -> None:
        progress.update(f"{result.ok}/{len(paths)} requests, {result.ok / max(elapsed, 1e-9):,.0f} req/s")

    result = run_load(
        port=ctx.stack.port, host=host, key=None, clients=clients, max_seconds=120, headers=headers,
        requests=[("GET", p, None) for p in paths], progress=show,
    )  # fmt: skip
    if result.errors:
        ctx.errors.extend(f"console {name}: {e[:200]}" for e in result.errors[:3])
    if not result.latencies:
        raise RuntimeError(f"console {name}: no successful request")
    progress.done(
        f"{result.ok} requests, {clients} clients: p50 {percentile(result.latencies, 50) * 1000:.1f} ms, "
        f"p95 {percentile(result.latencies, 95) * 1000:.1f} ms"
    )
    return result


def page_rows(healthz: list[float], pages: dict[str, list[float]]) -> list[Row]:
    """``console.healthz.p95`` (information), then ``console.<page>.p95`` for each page: in
    ms, its ratio to the baseline's, and whether it is under the target. Latencies in seconds."""
    baseline = percentile(healthz, 95) * 1000
    rows = [Row("console.healthz.p95", baseline, "ms")]
    for name, latencies in pages.items():
        p95 = percentile(latencies, 95) * 1000
        ratio = p95 / baseline if baseline else None
        rows.append(
            Row(f"console.{name}.p95", p95, "ms", baseline, ratio, f"< {TARGET_MS:.0f}", p95 < TARGET_MS)
        )
    return rows
