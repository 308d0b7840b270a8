"""The stack under test: gunicorn and one Celery worker as subprocesses, on a private broker.

Both get the same environment (``bench_env``): the database URL this run
resolved, a private ``SSI_DATA_DIR`` (so the filesystem broker is ours alone),
no rate limits, no nightly jitter, webhooks allowed to loopback, debug off.
They are started and stopped by ``config.processes``; their logs are in ``data_dir``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from config import processes
from config.processes import Process

STOP_TIMEOUT_SECONDS = 20
WEB_WORKERS = 2  # gunicorn's sync workers: requests served at once


def bench_env(*, database_url: str, data_dir: Path) -> dict[str, str]:
    env = os.environ.copy()
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # DEBUG keeps every SQL statement in memory (connection.queries): not what production runs.
    env.setdefault("DJANGO_DEBUG", "false")
    env.update(
        DATABASE_URL=database_url,
        SSI_DATA_DIR=str(data_dir),
        REDIS_URL="",
        CELERY_BROKER_URL="filesystem://",
        SSI_WEBHOOK_ALLOW_PRIVATE="1",
        SSI_RATE_LIMIT_PER_MINUTE="0",
        # The console's pages carry a session, no key: the per-address limit would count them.
        SSI_ANON_RATE_LIMIT_PER_MINUTE="0",
        SSI_DISPATCH_JITTER_SECONDS="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Stack:
    env: dict[str, str]
    data_dir: Path
    port: int = 0
    procs: dict[str, Process] = field(default_factory=dict)

    @property
    def broker_queue(self) -> Path:
        return self.data_dir / "broker" / "queue"

    def start(self) -> None:
        """gunicorn (2 workers) on a free port and the worker (prefork, 2), both ready."""
        processes.broker_folders(self.data_dir)
        self.port = processes.free_port()
        web = processes.gunicorn(
            bind=f"127.0.0.1:{self.port}",
            workers=WEB_WORKERS,
            env=self.env,
            log=self.data_dir / "gunicorn.log",
        )
        worker = processes.celery_worker(
            pool="prefork",
            concurrency=2,
            options=["--without-mingle", "--without-gossip"],
            env=self.env,
            log=self.data_dir / "worker.log",
        )
        self.procs = {"gunicorn": web.start(), "worker": worker.start()}
        web.wait_healthy(watch=[worker])
        worker.wait_for_log(" ready.", what="the Celery worker was not ready", watch=[web])

    def check_alive(self) -> None:
        for process in self.procs.values():
            process.check_alive()

    def tail(self, name: str, chars: int = 3000) -> str:
        """The end of the log of ``gunicorn`` or ``worker``."""
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def queued_messages(self) -> int:
        """Messages waiting in the filesystem broker (not yet taken by the worker)."""
        try:
            return sum(1 for _ in self.broker_queue.iterdir())
        except FileNotFoundError:
            return 0

    def stop(self) -> None:
        processes.stop_all(self.procs.values(), timeout=STOP_TIMEOUT_SECONDS)
        self.procs.clear()
