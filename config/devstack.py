"""``make run``: the whole product on one machine, with nothing else installed.

1. PostgreSQL: ``DATABASE_URL`` if set, else the embedded server under
   ``.data/pg`` (started if needed, data kept between runs).
2. ``setup_db`` (migrations of public, template and tenant schemas) and the
   demo tenant, with fresh keys for this run.
3. gunicorn (the API), a Celery worker and Celery beat, on Redis if
   ``REDIS_URL`` is set, else kombu's filesystem broker under ``.data/broker``.
   They log at ``WARNING`` unless ``LOG_LEVEL`` says otherwise, without Celery's banners.
4. Once gunicorn answers and the worker takes tasks, prints the URLs and keys in a frame:
   the last thing on the screen until something goes wrong.
5. Ctrl-C (or SIGTERM, SIGHUP) stops gunicorn, the worker and beat in that order, then
   the embedded PostgreSQL if this run started it, and exits with status 0. A process that
   exits on its own is reported, the others are stopped, and the exit status is 1.

The three processes lead their own process groups: the terminal's Ctrl-C reaches this
process only, which stops them in order (each would otherwise stop on its own at once and
look like a crash).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from config import processes
from config.embedded import BASE_DIR, data_dir
from config.processes import EmbeddedPostgres, Process, ProcessError

STOP_TIMEOUT_SECONDS = 15
DEFAULT_BIND = "127.0.0.1:8000"
DEFAULT_LOG_LEVEL = "WARNING"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Celery warns (SecurityWarning) when its worker runs as root, as `make run` does in a
# container or a root shell. The risk it names is a pickled message running code as root; the
# worker accepts JSON only (config/celery.py), and Celery refuses to start as root at all if
# pickle is accepted. So, for `make run`'s worker only, that one warning (matched by the start
# of its text: a -W filter cannot name Celery's class, which Python resolves before Celery can
# be imported) is dropped; the Docker image runs as a non-root user and never sees it.
ROOT_WARNING_FILTER = "ignore:You're running the worker with superuser privileges"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def environment() -> dict[str, str]:
    """Ours, with the local settings, unbuffered output and ``LOG_LEVEL`` (default ``WARNING``)
    unless told otherwise."""
    env = os.environ.copy()
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("PYTHONUNBUFFERED", "1")
    level = env.get("LOG_LEVEL", "").strip().upper() or DEFAULT_LOG_LEVEL
    if level not in LOG_LEVELS:
        raise ValueError(f"LOG_LEVEL={env['LOG_LEVEL']!r}: expected one of {', '.join(LOG_LEVELS)}")
    env["LOG_LEVEL"] = level
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


class Stack:
    """gunicorn, the worker and beat, their output on ours, each in its own process group."""

    def __init__(self, env: dict[str, str], ready_file: Path) -> None:
        level = env["LOG_LEVEL"]
        filesystem_broker = not env.get("REDIS_URL") and not env.get("CELERY_BROKER_URL")
        # gunicorn's access log is a line per request: part of what LOG_LEVEL=INFO shows.
        access_log = ["--access-logfile", "-"] if level in ("DEBUG", "INFO") else []
        self.web = processes.gunicorn(
            bind=env.get("SSI_BIND", DEFAULT_BIND),
            workers=env.get("WEB_CONCURRENCY", "2"),
            options=["--log-level", level.lower(), *access_log, "--graceful-timeout", "10"],
            env=env,
            own_session=True,
        )
        warnings = ",".join(filter(None, [env.get("PYTHONWARNINGS", ""), ROOT_WARNING_FILTER]))
        self.worker = processes.celery_worker(
            concurrency=env.get("CELERY_CONCURRENCY", "2"),
            options=["--without-mingle", "--without-gossip"] if filesystem_broker else [],
            env={**env, "PYTHONWARNINGS": warnings, "SSI_WORKER_READY_FILE": str(ready_file)},
            own_session=True,
            loglevel=level,
            quiet=True,
        )
        self.beat = processes.celery_beat(
            schedule=data_dir() / "celerybeat-schedule", env=env, own_session=True, loglevel=level, quiet=True
        )
        self.ready_file = ready_file
        # In the order they are stopped: no new requests, then no task left half done.
        self.all: list[Process] = [self.web, self.worker, self.beat]
        self.started: list[Process] = []

    def start(self) -> None:
        """Start all three; each is recorded as it starts, so that a Ctrl-C in between still
        stops the ones already running."""
        self.ready_file.unlink(missing_ok=True)
        for process in self.all:
            self.started.append(process.start())

    def wait_ready(self) -> None:
        """Until gunicorn answers ``/healthz`` and the worker has said it takes tasks;
        ``ProcessError`` if one of them exits first or it takes too long."""
        self.web.wait_healthy(watch=self.started)
        self.worker.wait_until(
            self.ready_file.exists, what="the Celery worker was not ready", watch=self.started
        )

    def watch(self) -> Process:
        """Until one of them exits on its own (a Ctrl-C ends the wait with ``KeyboardInterrupt``);
        returns that one."""
        while True:
            for process in self.started:
                if not process.running():
                    return process
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop them one after the other, in order (SIGTERM, then SIGKILL after a while)."""
        for process in self.all:
            if process in self.started:
                process.stop(timeout=STOP_TIMEOUT_SECONDS)


def framed(lines: list[str]) -> str:
    """``lines`` in an ASCII frame, as wide as the longest."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line:<{width}} |" for line in lines), rule])


def banner(env: dict[str, str], keys: dict[str, str]) -> str:
    """What ``make run`` prints last: the URLs and keys (the README shows the same block)."""
    port = env.get("SSI_BIND", DEFAULT_BIND).rsplit(":", 1)[-1]
    base_domain = env.get("SSI_BASE_DOMAIN", "localhost")
    platform = f"http://{base_domain}:{port}"
    demo = f"http://demo.{base_domain}:{port}"
    logs = "warnings and errors" if env["LOG_LEVEL"] == DEFAULT_LOG_LEVEL else f"level {env['LOG_LEVEL']}"
    return framed([
        "SSI Cloud is running. Ctrl-C stops everything.",
        "",
        f"API docs (Swagger UI)   {platform}/api/v1/docs/",
        f"OpenAPI schema          {platform}/api/v1/schema/",
        f"Demo tenant             {demo}/api/v1/reps",
        f"Health                  {platform}/healthz",
        "",
        f"Platform key            {keys['platform_key']}",
        f"Demo admin key          {keys['demo_admin_key']}",
        "(new keys on every run; the previous run's no longer work)",
        "",
        f"Try   curl {demo}/api/v1/reps \\",
        f'        -H "Authorization: Bearer {keys["demo_admin_key"]}"',
        "",
        f"Logs: {logs} (LOG_LEVEL=INFO make run for every request and task)",
        "",
        f"Console sign-in for {keys['demo_admin_email']} (set a password; new link every run):",
        f"{demo}/console/invite/{keys['demo_admin_invite']}",
    ])  # fmt: skip


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def run(env: dict[str, str], stack: Stack) -> int:
    """Migrate, seed, start, and serve until a process exits on its own (1) or a Ctrl-C."""
    migrate(env)
    keys = demo_tenant_keys(env)
    say("starting gunicorn, the Celery worker and Celery beat…")
    stack.start()
    try:
        stack.wait_ready()
    except ProcessError as exc:
        say(f"{str(exc).splitlines()[0]}; see the output above")
        return 1
    print("\n" + banner(env, keys) + "\n", flush=True)
    dead = stack.watch()
    say(f"{dead.name} (pid {dead.pid}) stopped on its own ({describe_exit(dead.returncode)})")
    return 1


def stop(stack: Stack, postgres: EmbeddedPostgres | None, code: int) -> int:
    """Stop everything this run started, the embedded PostgreSQL last; a second Ctrl-C while
    this runs does not cut it short (each process gets its timeout, then SIGKILL)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    say("stopping…")
    stack.stop()
    if postgres is not None:
        say("embedded PostgreSQL stopped" if postgres.stop() else "embedded PostgreSQL was already stopped")
    say("stopped")
    return code


@contextmanager
def terminal_foreground() -> Iterator[None]:
    """While this runs, this process alone is the terminal's foreground process group.

    The terminal sends Ctrl-C's SIGINT to its foreground process group, and under
    ``make run`` that group holds make too: GNU make, interrupted, waits for this
    process, then kills itself with the same signal, so the shell would see status
    130 whatever this process returns. In a group of its own, this process gets the
    Ctrl-C, stops everything, and make ends with this process's status. Nothing
    changes when there is no terminal or when this process is not in the foreground
    (started with ``&``): it does not take a terminal from a shell.
    """
    try:
        fd = sys.stdin.fileno()
        previous = os.tcgetpgrp(fd) if os.isatty(fd) else None
    except (OSError, ValueError):
        previous = None
    if previous is None or previous != os.getpgrp():
        yield
        return
    try:
        os.setpgid(0, 0)
        _set_foreground(fd, os.getpgrp())
    except OSError:
        yield
        return
    try:
        yield
    finally:
        # OSError: make's group is gone (it was killed); the shell takes the terminal back.
        with suppress(OSError):
            _set_foreground(fd, previous)


def _set_foreground(fd: int, group: int) -> None:
    """``tcsetpgrp`` from a background group: SIGTTOU, ignored meanwhile, would stop us."""
    saved = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, group)
    finally:
        signal.signal(signal.SIGTTOU, saved)


def main() -> int:
    with terminal_foreground():
        return _main()


def _main() -> int:
    os.chdir(BASE_DIR)
    try:
        env = environment()
    except ValueError as exc:
        say(str(exc))
        return 2
    # Named explicitly: a shell that starts us in the background leaves SIGINT ignored.
    processes.interrupt_on(*STOP_SIGNALS)
    postgres: EmbeddedPostgres | None = None
    with tempfile.TemporaryDirectory(prefix="ssi-run-") as tmp:
        stack = Stack(env, ready_file=Path(tmp) / "worker-ready")
        try:
            postgres = ensure_database(env)
            say_broker(env)
            return stop(stack, postgres, run(env, stack))
        except KeyboardInterrupt:
            return stop(stack, postgres, 0)
        except subprocess.CalledProcessError as exc:
            say(f"setup failed: {exc}")
            return stop(stack, postgres, 1)


if __name__ == "__main__":
    sys.exit(main())
