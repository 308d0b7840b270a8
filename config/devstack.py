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
import urllib.request
from pathlib import Path

from config.embedded import BASE_DIR, data_dir

STOP_TIMEOUT_SECONDS = 15


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def embedded_postgres_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().splitlines()[0]), 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True


def stop_embedded_postgres(pgdata: Path) -> None:
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]
    from pgserver.postgres_server import PostgresServer

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
        say("embedded PostgreSQL stopped")
    except subprocess.CalledProcessError:
        say("embedded PostgreSQL was already stopped")
    del PostgresServer  # imported only to make sure pgserver is importable


def wait_healthy(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback URL)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def main() -> int:
    os.chdir(BASE_DIR)
    env = os.environ.copy()
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("PYTHONUNBUFFERED", "1")
    python = sys.executable
    bind = env.get("SSI_BIND", "127.0.0.1:8000")
    port = bind.rsplit(":", 1)[-1]
    base_domain = env.get("SSI_BASE_DOMAIN", "localhost")

    pgdata = data_dir() / "pg"
    started_postgres = False
    if not env.get("DATABASE_URL"):
        from config.embedded import embedded_database_url

        started_postgres = not embedded_postgres_running(pgdata)
        say(
            "starting the embedded PostgreSQL (.data/pg)…"
            if started_postgres
            else "reusing the embedded PostgreSQL"
        )
        env["DATABASE_URL"] = embedded_database_url()
    else:
        say("using DATABASE_URL")
    say(
        "broker: "
        + ("Redis (REDIS_URL)" if env.get("REDIS_URL") else "filesystem (.data/broker), no server needed")
    )

    procs: list[subprocess.Popen[bytes]] = []

    def shutdown(code: int) -> int:
        say("stopping…")
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        if started_postgres:
            stop_embedded_postgres(pgdata)
        say("stopped")
        return code

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        say("migrating the database…")
        subprocess.run([python, "manage.py", "setup_db", "-v", "0"], env=env, check=True)
        say("preparing the demo tenant…")
        out = subprocess.run(
            [python, "manage.py", "seed_demo", "--json"], env=env, check=True, capture_output=True, text=True
        )
        keys = json.loads(out.stdout.strip().splitlines()[-1])

        filesystem_broker = not env.get("REDIS_URL") and not env.get("CELERY_BROKER_URL")
        worker_flags = ["--without-mingle", "--without-gossip"] if filesystem_broker else []
        commands = [
            [
                python,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                bind,
                "--workers",
                env.get("WEB_CONCURRENCY", "2"),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
            [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                env.get("CELERY_CONCURRENCY", "2"),
                *worker_flags,
            ],
            [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(data_dir() / "celerybeat-schedule"),
            ],
        ]
        for command in commands:
            procs.append(subprocess.Popen(command, env=env))

        health = f"http://127.0.0.1:{port}/healthz"
        if not wait_healthy(health, procs):
            say("the API did not come up; see the output above")
            return shutdown(1)

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
        while True:
            for proc in procs:
                if proc.poll() is not None:
                    say(f"a process exited unexpectedly (code {proc.returncode}): {proc.args!r}")
                    return shutdown(1)
            time.sleep(0.5)
    except KeyboardInterrupt:
        return shutdown(0)
    except subprocess.CalledProcessError as exc:
        say(f"setup failed: {exc}")
        return shutdown(1)


if __name__ == "__main__":
    sys.exit(main())
