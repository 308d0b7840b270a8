"""gunicorn as every command starts it (``config.processes.gunicorn``: ``config/gunicorn_conf.py``),
checked over raw sockets (docs/security.md "Malformed requests", "What is logged, and what never
is"): its own error answers are the API's JSON error shape, no answer says ``Server: gunicorn``,
a chunked body is read, and its logs hold no key or token.
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

from api.errors import error_body
from config.gunicorn_worker import ERRORS, SECURITY_HEADERS, error_answer
from tests.support.server import Server, gunicorn_server
from tests.support.tenants import TenantKeys, World

pytestmark = pytest.mark.worker  # starts gunicorn

MAX_BODY_BYTES = 65536


@pytest.fixture(scope="module")
def server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One gunicorn worker, its access log in its log file, a small body limit."""
    data_dir = tmp_path_factory.mktemp("gunicorn")
    with gunicorn_server(
        data_dir,
        workers=1,
        env={"SSI_MAX_BODY_BYTES": str(MAX_BODY_BYTES), "SSI_ANON_RATE_LIMIT_PER_MINUTE": "0"},
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


def assert_api_error(answer: Answer, status: int, code: str) -> None:
    """The API's error shape, as ``tests.support.http.assert_error`` checks it, over a socket."""
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers["content-type"] == "application/json", answer.header_list
    body = answer.json()
    assert set(body) == {"type", "errors"} and body["errors"], body
    assert [error["code"] for error in body["errors"]] == [code], body
    assert set(body["errors"][0]) == {"code", "detail", "attr"}, body


def assert_no_server_header(answer: Answer) -> None:
    assert "server" not in [name for name, _ in answer.header_list], answer.header_list


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        (b"GET /api/v1/reps?token=ssir_in_a_bad_line HTTP/1.1 extra\r\nHost: acme.localhost\r\n\r\n", 400,
         "bad_request"),
        (request_bytes("GET", "/api/v1/reps?q=" + "a" * 5000, "acme.localhost"), 414, "uri_too_long"),
        (request_bytes("GET", "/api/v1/reps", "acme.localhost", {"X-Big": "b" * 9000}), 431,
         "headers_too_large"),
        (request_bytes("GET", "/api/v1/reps", "acme.localhost", {f"X-H{i}": "1" for i in range(120)}), 431,
         "headers_too_large"),
        (request_bytes("POST", "/api/v1/activities", "acme.localhost", {"Transfer-Encoding": "br"}), 501,
         "not_implemented"),
        (request_bytes("POST", "/api/v1/activities", "acme.localhost", {"Transfer-Encoding": "gzip"}), 400,
         "bad_request"),
        (request_bytes("POST", "/api/v1/activities", "acme.localhost", {"Expect": "teapot"}), 417,
         "expectation_failed"),
        (request_bytes("POST", "/api/v1/activities", "acme.localhost",
                       {"Transfer-Encoding": "chunked", "Content-Length": "5"}), 400, "bad_request"),
    ],
    ids=["request-line", "request-line-with-a-token", "uri-too-long", "header-too-large", "too-many-headers",
         "transfer-coding-unknown", "transfer-coding-not-chunked", "expectation-unknown",
         "chunked-and-content-length"],
)  # fmt: skip
def test_gunicorns_own_error_answers_are_the_api_error_shape(
    server: Server, request_: bytes, status: int, code: str
) -> None:
    answer = exchange(server.port, request_)
    assert_api_error(answer, status, code)
    assert_no_server_header(answer)
    assert answer.headers["connection"] == "close"
    for name, value in SECURITY_HEADERS:
        assert answer.headers[name.lower()] == value, answer.header_list


@pytest.mark.parametrize(
    "target",
    [b"/api/v1/reps/\xed\xa0\x80", b"/api/v1/reps/%ED%A0%80/ssi", b"/api/v1/activities?rep=\xed\xa0\x80"],
    ids=["raw-in-path", "escaped-in-path", "raw-in-query"],
)
def test_a_url_holding_the_bytes_of_a_lone_surrogate_is_answered_in_the_error_shape(
    server: Server, world: World, target: bytes
) -> None:
    head = b"GET " + target + b" HTTP/1.1\r\nHost: " + world.acme.host.encode()
    auth = f"\r\nAuthorization: Bearer {world.acme.admin}\r\nConnection: close\r\n\r\n".encode()
    answer = exchange(server.port, head + auth)
    assert answer.status < 500, (answer.status, answer.body[:300])
    if answer.status >= 400:
        assert_api_error(answer, answer.status, answer.json()["errors"][0]["code"])


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/reps", "/api/v1/nothing-here"])
def test_no_answer_names_the_server(server: Server, world: World, path: str) -> None:
    answer = exchange(server.port, request_bytes("GET", path, world.acme.host))
    assert answer.status in (200, 401, 404), answer.status
    assert_no_server_header(answer)


def test_gunicorns_error_answers_carry_the_headers_of_a_django_error(server: Server, world: World) -> None:
    django_answer = exchange(server.port, request_bytes("GET", "/api/v1/nothing-here", world.acme.host))
    assert_api_error(django_answer, 404, "not_found")
    for name, value in SECURITY_HEADERS:
        assert django_answer.headers[name.lower()] == value, (name, django_answer.header_list)


@pytest.mark.parametrize("status", sorted(ERRORS))
def test_the_error_answer_is_what_the_api_renders_for_its_status(status: int) -> None:
    answer = error_answer(status, "Reason")
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(f"HTTP/1.1 {status} Reason\r\n".encode())
    code, detail = ERRORS[status]
    assert json.loads(body) == error_body(status, [{"code": code, "detail": detail, "attr": None}])


def chunked(body: bytes, size: int = 1000) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def post_chunked(port: int, keys: TenantKeys, body: bytes) -> Answer:
    head = request_bytes(
        "POST",
        "/api/v1/activities",
        keys.host,
        {
            "Authorization": f"Bearer {keys.admin}",
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
    )
    return exchange(port, head + chunked(body))


def test_a_chunked_body_is_read(server: Server, committed_tenant: TenantKeys) -> None:
    events = [
        {"id": f"chunk-{i}", "rep": "crm-1", "type": "post_published", "occurred_at": "2026-01-01T10:00:00Z"}
        for i in range(20)
    ]
    answer = post_chunked(server.port, committed_tenant, json.dumps({"events": events}).encode())
    assert answer.status == 200, answer.body[:300]
    assert answer.json() == {"accepted": 20, "duplicates": 0, "rejected": []}


def test_a_chunked_body_over_the_limit_is_a_413(server: Server, committed_tenant: TenantKeys) -> None:
    body = json.dumps({"events": [], "padding": "x" * MAX_BODY_BYTES}).encode()
    assert_api_error(post_chunked(server.port, committed_tenant, body), 413, "request_too_large")


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


def test_the_access_log_holds_no_rep_link_token(server: Server, world: World) -> None:
    """A rep's own page is opened with its token in the URL (``/console/me?token=ssir_…``)."""
    token = "ssir_" + "L" * 43
    answer = exchange(server.port, request_bytes("GET", f"/console/me?token={token}", world.acme.host))
    assert answer.status == 403  # no such token
    log = logged(server, "GET /console/me?token=")
    assert token[5:] not in log, server.tail()
    assert "GET /console/me?token=[redacted]" in log, server.tail()


def test_the_error_log_quotes_no_token_from_a_malformed_request(server: Server) -> None:
    secret = "ssik_" + "m" * 43
    # A request line without spaces: gunicorn's warning quotes all of it.
    answer = exchange(server.port, f"/api/v1/reps?key={secret}\r\n\r\n".encode())
    assert_api_error(answer, 400, "bad_request")
    log = logged(server, "Invalid HTTP request line: '/api/v1/reps?key=[redacted]'")
    assert secret[5:] not in log, server.tail()


def test_the_settings_module_is_used_by_every_gunicorn_we_start() -> None:
    from config import processes

    command = processes.gunicorn(bind="127.0.0.1:1", workers=1, env={}).command
    assert command[command.index("--config") + 1] == "python:config.gunicorn_conf"
    docker = Path(__file__).resolve().parents[2] / "docker"
    for name in ("Dockerfile", "entrypoint.sh"):
        assert "python:config.gunicorn_conf" in (docker / name).read_text(), name
