"""HTTP clients for the benchmarks: stdlib ``http.client``, keep-alive, one connection per thread.

Only ever talks to 127.0.0.1; the tenant is named by the ``Host`` header
(``<slug>.localhost``), so no name resolution is involved.
"""

from __future__ import annotations

import http.client
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

RETRYABLE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionRefusedError)


class Client:
    """One keep-alive connection to the API under test (gunicorn's sync workers close it after
    every answer; ``http.client`` then reconnects on the next request)."""

    def __init__(
        self,
        port: int,
        *,
        host: str,
        key: str | None = None,
        timeout: float = 120,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.port = port
        self.timeout = timeout
        self.headers = {"Host": host, "Accept": "application/json", **(headers or {})}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """``headers``: for this request, over the client's own (another tenant's ``Host``, say)."""
        headers = {**self.headers, **(headers or {})}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except RETRYABLE:
                # The server closed a kept-alive connection: reconnect once.
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, payload: Any = None, *, expect: int | None = None) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        status, data = self.request(method, path, body)
        if expect is not None and status != expect:
            raise RuntimeError(f"{method} {path}: HTTP {status}, expected {expect}: {data[:500]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        self.conn.close()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


class Progress:
    """One live line per phase: rewritten in place on a terminal, every few seconds otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stdout.isatty()
        self.last = 0.0
        self.width = 0

    def update(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (0.25 if self.tty else 5.0):
            return
        self.last = now
        line = f"  {self.label}: {text}"
        if self.tty:
            sys.stdout.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def done(self, text: str) -> None:
        line = f"  {self.label}: {text}"
        if self.tty:
            sys.stdout.write("\r" + line.ljust(self.width) + "\n")
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    answers: list[bytes] = field(default_factory=list)
    wall: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.ok / self.wall if self.wall else 0.0


def run_load(
    *,
    port: int,
    host: str,
    key: str | None,
    clients: int,
    requests: Sequence[tuple[str, str, bytes | None]],
    max_seconds: float,
    progress: Callable[[LoadResult, float], None] | None = None,
    keep_answers: bool = False,
    headers: dict[str, str] | None = None,
    request_headers: Sequence[dict[str, str]] | None = None,
) -> LoadResult:
    """Send ``requests`` (method, path, body) from ``clients`` threads, each on its own
    connection, as fast as answers come; stop issuing new ones after ``max_seconds``.
    ``headers``: sent with every request (a console session's ``Cookie``, say);
    ``request_headers``: those of each request, by its index (requests to many tenants)."""
    result = LoadResult()
    lock = threading.Lock()
    next_index = [0]
    started = time.monotonic()
    deadline = started + max_seconds

    def worker() -> None:
        client = Client(port, host=host, key=key, headers=headers)
        try:
            while True:
                with lock:
                    index = next_index[0]
                    if index >= len(requests) or time.monotonic() > deadline:
                        return
                    next_index[0] += 1
                method, path, body = requests[index]
                t0 = time.perf_counter()
                try:
                    status, data = client.request(
                        method, path, body, request_headers[index] if request_headers else None
                    )
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        result.errors.append(f"{method} {path}: {exc!r}")
                    continue
                elapsed = time.perf_counter() - t0
                with lock:
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if 200 <= status < 300:
                        result.latencies.append(elapsed)
                        if keep_answers:
                            result.answers.append(data)
                    elif len(result.errors) < 20:
                        result.errors.append(f"{method} {path}: HTTP {status} {data[:300]!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    while alive := [t for t in threads if t.is_alive()]:
        alive[0].join(timeout=0.25)
        if progress:
            with lock:
                progress(result, time.monotonic() - started)
    result.wall = time.monotonic() - started
    return result
