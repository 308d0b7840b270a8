"""``make run``: the whole product on one machine, with nothing else installed.

1. PostgreSQL: ``DATABASE_URL`` if set, else the embedded server under
   ``.data/pg`` (started if needed, data kept between runs).
2. ``setup_db`` (migrations of public, template and tenant schemas) and the
   demo tenant, with fresh keys for this run.
3. gunicorn (the API), a Celery worker and Celery beat, on Redis if
   ``REDIS_URL`` is set, else kombu's filesystem broker under ``.data/broker``.
4. Prints the URLs and keys; Ctrl-C stops everything (and the embedded
   PostgreSQL, if this run started it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from config import processes
from config.embedded import BASE_DIR, data_dir
from config.processes import EmbeddedPostgres, Process, ProcessError

STOP_TIMEOUT_SECONDS = 15


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def environment() -> dict[str, str]:
    """Ours, with the local settings and unbuffered output unless told otherwise."""
    env = os.environ.copy()
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def ensure_database(env: dict[str, str]) -> EmbeddedPostgres | None:
    """Point ``env`` at ``DATABASE_URL``, else at the embedded server (started if needed).
    Returns the embedded server when this run started it: the one to stop at the end."""
    if env.get("DATABASE_URL"):
        say("using DATABASE_URL")
        return None
    postgres = EmbeddedPostgres()
    if postgres.running():
        say("reusing the embedded PostgreSQL")
    else:
        say("starting the embedded PostgreSQL (.data/pg)…")
    env["DATABASE_URL"] = postgres.start()
    return postgres if postgres.started_here else None


def say_broker(env: dict[str, str]) -> None:
    say(
        "broker: "
        + ("Redis (REDIS_URL)" if env.get("REDIS_URL") else "filesystem (.data/broker), no server needed")
    )


def migrate(env: dict[str, str]) -> None:
    say("migrating the database…")
    subprocess.run([sys.executable, "manage.py", "setup_db", "-v", "0"], env=env, check=True)


def demo_tenant_keys(env: dict[str, str]) -> dict[str, str]:
    """Create (or refresh) the demo tenant; its fresh platform and admin keys."""
    say("preparing the demo tenant…")
    out = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--json"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    keys: dict[str, str] = json.loads(out.stdout.strip().splitlines()[-1])
    return keys


def start_processes(env: dict[str, str], started: list[Process]) -> processes.WebServer:
    """gunicorn, the worker and beat, their output on ours; each is added to ``started`` as it
    starts, so that a Ctrl-C in between still stops the ones already running."""
    filesystem_broker = not env.get("REDIS_URL") and not env.get("CELERY_BROKER_URL")
    web = processes.gunicorn(
        bind=env.get("SSI_BIND", "127.0.0.1:8000"),
        workers=env.get("WEB_CONCURRENCY", "2"),
        options=["--access-logfile", "-", "--graceful-timeout", "10"],
        env=env,
    )
    worker = processes.celery_worker(
        concurrency=env.get("CELERY_CONCURRENCY", "2"),
        options=["--without-mingle", "--without-gossip"] if filesystem_broker else [],
        env=env,
    )
    beat = processes.celery_beat(schedule=data_dir() / "celerybeat-schedule", env=env)
    for process in (web, worker, beat):
        started.append(process.start())
    return web


def print_banner(env: dict[str, str], keys: dict[str, str]) -> None:
    port = env.get("SSI_BIND", "127.0.0.1:8000").rsplit(":", 1)[-1]
    base_domain = env.get("SSI_BASE_DOMAIN", "localhost")
    platform = f"http://{base_domain}:{port}"
    demo = f"http://demo.{base_domain}:{port}"
    print(
        f"""
================================================================================
 SSI Cloud is running.

 API docs (Swagger UI)   {platform}/api/v1/docs/
 OpenAPI schema          {platform}/api/v1/schema/
 Demo tenant             {demo}/api/v1/reps
 Health                  {platform}/healthz   {platform}/readyz

 Platform key            {keys["platform_key"]}
 Demo admin key          {keys["demo_admin_key"]}
 (fresh keys each run; the previous run's are revoked)

 Try:
   curl -H "Authorization: Bearer {keys["demo_admin_key"]}" {demo}/api/v1/reps
   curl -H "Authorization: Bearer {keys["platform_key"]}" {platform}/api/v1/platform/tenants

 Ctrl-C stops everything.
================================================================================
""",
        flush=True,
    )


def wait_for_exit(started: list[Process]) -> int:
    """Until one of them exits on its own (a Ctrl-C ends the wait with ``KeyboardInterrupt``)."""
    while True:
        for process in started:
            if not process.running():
                say(f"a process exited unexpectedly (code {process.returncode}): {process.command!r}")
                return 1
        time.sleep(0.5)


def run(env: dict[str, str], started: list[Process]) -> int:
    """Migrate, seed, start, and serve until a process exits (1) or a Ctrl-C."""
    migrate(env)
    keys = demo_tenant_keys(env)
    web = start_processes(env, started)
    try:
        web.wait_healthy(watch=started)
    except ProcessError:
        say("the API did not come up; see the output above")
        return 1
    print_banner(env, keys)
    return wait_for_exit(started)


def stop(started: list[Process], postgres: EmbeddedPostgres | None, code: int) -> int:
    say("stopping…")
    processes.stop_all(started, timeout=STOP_TIMEOUT_SECONDS)
    if postgres is not None:
        say("embedded PostgreSQL stopped" if postgres.stop() else "embedded PostgreSQL was already stopped")
    say("stopped")
    return code


def main() -> int:
    os.chdir(BASE_DIR)
    env = environment()
    postgres = ensure_database(env)
    say_broker(env)
    started: list[Process] = []
    processes.interrupt_on(signal.SIGTERM)
    try:
        return stop(started, postgres, run(env, started))
    except KeyboardInterrupt:
        return stop(started, postgres, 0)
    except subprocess.CalledProcessError as exc:
        say(f"setup failed: {exc}")
        return stop(started, postgres, 1)


if __name__ == "__main__":
    sys.exit(main())
