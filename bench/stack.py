"""The stack under test: gunicorn and one Celery worker as subprocesses, on a private broker.

Both get the same environment (``bench_env``): the database URL this run
resolved, a private ``SSI_DATA_DIR`` (so the filesystem broker is ours alone),
no rate limit, no nightly jitter, webhooks allowed to loopback, debug off.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from config.embedded import BASE_DIR

STOP_TIMEOUT_SECONDS = 20


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
        SSI_DISPATCH_JITTER_SECONDS="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    env: dict[str, str]
    data_dir: Path
    port: int = 0
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, IO[bytes]] = field(default_factory=dict)

    @property
    def broker_queue(self) -> Path:
        return self.data_dir / "broker" / "queue"

    def log_path(self, name: str) -> Path:
        return self.data_dir / f"{name}.log"

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.log_path(name), "wb")  # noqa: SIM115 (closed in stop())
        self.logs[name] = log
        self.procs[name] = subprocess.Popen(
            command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def start(self) -> None:
        for folder in ("queue", "processed", "control"):
            (self.data_dir / "broker" / folder).mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        python = sys.executable
        self._spawn(
            "gunicorn",
            [python, "-m", "gunicorn", "config.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", "2"],
        )  # fmt: skip
        self._spawn(
            "worker",
            [python, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
             "--pool", "prefork", "--concurrency", "2", "--without-mingle", "--without-gossip"],
        )  # fmt: skip
        self._wait_healthy()
        self._wait_worker_ready()

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited (code {proc.returncode}); log:\n{self.tail(name)}")

    def tail(self, name: str, chars: int = 3000) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer {url} in {timeout:.0f}s; log:\n{self.tail('gunicorn')}")

    def _wait_worker_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if " ready." in self.tail("worker", 20000):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the Celery worker was not ready in {timeout:.0f}s; log:\n{self.tail('worker')}")

    def queued_messages(self) -> int:
        """Messages waiting in the filesystem broker (not yet taken by the worker)."""
        try:
            return sum(1 for _ in self.broker_queue.iterdir())
        except FileNotFoundError:
            return 0

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs.values():
            log.close()
        self.procs.clear()
        self.logs.clear()
