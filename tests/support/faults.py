"""Fault tests: the real app, a real PostgreSQL, real worker processes, and a fault we control.

``TcpProxy`` stands between the app and PostgreSQL (or anything else): a
thread that forwards TCP connections to a target (a TCP address or a Unix
socket, as the embedded server listens on). ``down()`` closes its listener
and every forwarded connection (the database is gone, or restarting),
``blackhole()`` accepts connections and never answers (a host that vanished
from the network), ``up()`` forwards again on the same port.

``app_server`` runs gunicorn as a subprocess, as production does.
"""

from __future__ import annotations

import contextlib
import select
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection

from tests.support.server import free_port, gunicorn_server


class TcpProxy:
    """A loopback TCP port that forwards to ``target``: ``("tcp", host, port)`` or ``("unix", path)``."""

    def __init__(self, target: tuple[Any, ...]) -> None:
        self.target = target
        self.mode = "up"
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket | None]] = []
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self.port = free_port()
        self._listen()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # --- control ---------------------------------------------------------------------------------
    def up(self) -> None:
        with self._lock:
            self.mode = "up"
            if self._listener is None:
                self._listen()

    def down(self) -> None:
        """Refuse new connections and cut every open one."""
        with self._lock:
            self.mode = "down"
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self.cut_all()

    def blackhole(self) -> None:
        """Accept new connections but never forward or answer; cut the open ones."""
        with self._lock:
            self.mode = "blackhole"
            if self._listener is None:
                self._listen()
        self.cut_all()

    def cut_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()

    def close(self) -> None:
        self._stop.set()
        self.down()
        self._thread.join(timeout=5)

    # --- machinery -------------------------------------------------------------------------------
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener

    def _connect_target(self) -> socket.socket:
        if self.target[0] == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.target[1])
        else:
            sock = socket.create_connection((self.target[1], self.target[2]), timeout=5)
            sock.settimeout(None)
        return sock

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                time.sleep(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            client.settimeout(None)
            if self.mode == "blackhole":
                with self._lock:
                    self._pairs.append((client, None))
                continue
            try:
                upstream = self._connect_target()
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


@contextlib.contextmanager
def database_proxy() -> Iterator[tuple[TcpProxy, str]]:
    """A proxy to the test database, and the DATABASE_URL that reaches the database through it."""
    s = connection.settings_dict
    host = str(s.get("HOST") or "")
    port = int(s.get("PORT") or 5432)
    unix = host.startswith("/")
    target: tuple[Any, ...] = ("unix", f"{host}/.s.PGSQL.{port}") if unix else ("tcp", host, port)
    proxy = TcpProxy(target)
    user = quote(str(s.get("USER") or ""))
    password = quote(str(s.get("PASSWORD") or ""))
    auth = f"{user}:{password}@" if password else f"{user}@"
    try:
        yield proxy, f"postgresql://{auth}127.0.0.1:{proxy.port}/{s['NAME']}"
    finally:
        proxy.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class AppServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def request(
        self,
        method: str,
        path: str,
        *,
        host: str,
        token: str | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> Answer:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method)
        request.add_header("Host", host)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers.items()), error.read())

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@contextlib.contextmanager
def app_server(
    data_dir: Path, database_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[AppServer]:
    """gunicorn (one sync worker: one persistent database connection) on a free loopback port,
    on ``database_url`` (a proxy the test controls), tasks run inline as in the other tests."""
    env = {
        "DATABASE_URL": database_url,
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "SSI_RATE_LIMIT_PER_MINUTE": "0",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    with gunicorn_server(
        data_dir, workers=1, env=env, args=("--timeout", "30", "--graceful-timeout", "2")
    ) as server:
        yield AppServer(server.process, server.port, server.log)
