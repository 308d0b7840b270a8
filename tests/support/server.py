"""The API as a real server for tests: gunicorn as a subprocess on the test database.

``gunicorn_server(data_dir)`` serves ``config.wsgi`` on a free port of
127.0.0.1, with the test settings, the database pytest-django created and
the filesystem broker under ``data_dir`` (the one ``tests.worker.celery_worker``
uses with the same ``data_dir``), tasks sent to the broker (not eager).
``HttpClient`` speaks JSON to it with ``http.client`` (standard library).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.worker import BASE_DIR, process_stop, test_database_url

# A network error a client sees when the server dropped or never took the connection.
NETWORK_ERRORS = (OSError, http.client.HTTPException)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a server or worker subprocess on the test database and ``data_dir``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "SSI_DATA_DIR": str(data_dir),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
        **(extra or {}),
    }


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@contextmanager
def gunicorn_server(
    data_dir: Path,
    *,
    workers: int = 2,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    args: tuple[str, ...] = ("--timeout", "120"),
) -> Iterator[Server]:
    """gunicorn (sync workers, as in production) until the block ends; waits for /healthz.

    ``env`` adds to (or overrides) ``server_env``; ``args``: more gunicorn options."""
    for folder in ("queue", "processed", "control"):
        (data_dir / "broker" / folder).mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = data_dir / "gunicorn.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), *args],
        cwd=BASE_DIR, env=server_env(data_dir, env), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, which process_stop may kill whole
    )  # fmt: skip
    server = Server(port=port, process=process, log=log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"gunicorn exited ({process.returncode}):\n{server.tail()}")
            try:
                status, _, _ = HttpClient(port, host="localhost", timeout=2).request("GET", "/healthz")
                if status == 200:
                    break
            except NETWORK_ERRORS:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not answer /healthz in {timeout:.0f}s:\n{server.tail()}")
            time.sleep(0.2)
        yield server
    finally:
        process_stop(process)
        log.close()


class HttpClient:
    """One connection to 127.0.0.1:port; the tenant is chosen by the ``Host`` header."""

    def __init__(self, port: int, *, host: str, token: str | None = None, timeout: float = 120) -> None:
        self.headers = {"Host": host, "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, headers). A network error closes the connection and propagates."""
        sent = {**self.headers, **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
        except NETWORK_ERRORS:
            self.conn.close()
            raise

    def json(self, method: str, path: str, payload: Any = None, *, expect: int) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        status, data, _ = self.request(method, path, body)
        if status != expect:
            raise AssertionError(f"{method} {path}: HTTP {status}, expected {expect}: {data[:500]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        self.conn.close()
