"""The API as a real server for tests: gunicorn as a subprocess on the test database.

``gunicorn_server(data_dir)`` serves ``config.wsgi`` on a free port of
127.0.0.1, with the test settings, the database pytest-django created and
the filesystem broker under ``data_dir`` (the one ``tests.support.worker.celery_worker``
uses with the same ``data_dir``), tasks sent to the broker (not eager).
``HttpClient`` speaks JSON to it with ``http.client`` (standard library).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import processes
from config.processes import free_port
from tests.support.worker import test_database_url

# A network error a client sees when the server dropped or never took the connection.
NETWORK_ERRORS = (OSError, http.client.HTTPException)


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

    ``env`` adds to (or overrides) ``server_env``; ``args``: more gunicorn options. It leads
    its own process group, which ``stop`` kills whole if it does not exit on SIGTERM."""
    processes.broker_folders(data_dir)
    port = free_port()
    web = processes.gunicorn(
        bind=f"127.0.0.1:{port}",
        workers=workers,
        options=args,
        env=server_env(data_dir, env),
        log=data_dir / "gunicorn.log",
        own_session=True,
    ).start()
    try:
        web.wait_healthy(host="localhost", timeout=timeout)
        yield Server(port=port, process=web.popen, log=data_dir / "gunicorn.log")
    finally:
        web.stop()


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
