"""gunicorn as every command starts it (``config.processes.gunicorn``: ``config/gunicorn_conf.py``),
checked over raw sockets (docs/security.md "What is logged, and what never is"): its logs hold
no key or token.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Server, gunicorn_server
from tests.support.tenants import World

pytestmark = pytest.mark.worker  # starts gunicorn


@pytest.fixture(scope="module")
def server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One gunicorn worker, its access log in its log file."""
    data_dir = tmp_path_factory.mktemp("gunicorn")
    with gunicorn_server(
        data_dir,
        workers=1,
        env={"SSI_ANON_RATE_LIMIT_PER_MINUTE": "0"},
        args=("--timeout", "60", "--access-logfile", "-"),
    ) as running:
        yield running


class Answer:
    """An HTTP answer read off a raw socket: status, headers (every one, in order), body."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.header_list = [(name.lower(), value) for name, value in response.getheaders()]
        self.headers = dict(self.header_list)
        self.body = response.read()

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(port: int, request: bytes) -> Answer:
    """Send ``request`` as it is, read the answer (the connection is closed after it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return Answer(response)


def request_bytes(method: str, target: str, host: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def logged(server: Server, text: str, timeout: float = 10) -> str:
    """The server's log once it holds ``text`` (gunicorn writes the access line after answering)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log.read_text(errors="replace")
        if text in log:
            return log
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the log:\n{server.tail()}")


def test_the_access_log_holds_no_key_and_no_token(server: Server, world: World) -> None:
    key, token = world.acme.admin, "ssir_" + "t" * 43
    basic = base64.b64encode(f"{key}:".encode()).decode()
    path = f"/api/v1/reps?page=1&token={token}&api_key=k3y&secret=s3cret&password=pw"
    referer = f"https://app.example/sync?access_token={token}&x=1"
    answer = exchange(
        server.port,
        request_bytes("GET", path, world.acme.host, {"Authorization": f"Basic {basic}", "Referer": referer}),
    )
    assert answer.status == 401
    log = logged(server, "GET /api/v1/reps?page=1")
    line = next(line for line in log.splitlines() if "GET /api/v1/reps?page=1" in line)
    for secret in (key, key[5:], token[5:], "k3y", "s3cret", "=pw"):
        assert secret not in log, (secret, line)
    assert "token=[redacted]" in line and "access_token=[redacted]" in line, line
    assert " - - [" in line, line  # gunicorn's user field: "-", never the Basic-auth user


def test_the_error_log_quotes_no_token_from_a_malformed_request(server: Server) -> None:
    secret = "ssik_" + "m" * 43
    # A request line without spaces: gunicorn's warning quotes all of it.
    exchange(server.port, f"/api/v1/reps?key={secret}\r\n\r\n".encode())
    log = logged(server, "Invalid HTTP request line: '/api/v1/reps?key=[redacted]'")
    assert secret[5:] not in log, server.tail()


def test_the_settings_module_is_used_by_every_gunicorn_we_start() -> None:
    from config import processes

    command = processes.gunicorn(bind="127.0.0.1:1", workers=1, env={}).command
    assert command[command.index("--config") + 1] == "python:config.gunicorn_conf"
    docker = Path(__file__).resolve().parents[2] / "docker"
    for name in ("Dockerfile", "entrypoint.sh"):
        assert "python:config.gunicorn_conf" in (docker / name).read_text(), name
