"""``Receiver``: a real HTTP server for webhook tests.

It listens on 127.0.0.1 on a random port, in a thread, records every request
(path, headers, exact body bytes) and answers as told: ``fail_next`` 500s
first, then ``status``; ``hang`` seconds of silence before answering; or
``drip``: a status line, then one header byte every 0.2 s, for ever. With
``validate`` (a function of the body returning its problems, as in
tests/support/chat_formats.py) it answers 400 with the problems to a body it
refuses, as a chat tool's incoming webhook does.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


def signed_with(secret: str, request: Received) -> bool:
    """Whether ``request`` carries a valid ``X-SSI-Signature`` for ``secret`` (HMAC-SHA256 of
    ``"<t>." + body``, computed here independently of the product's signer)."""
    parts = dict(item.split("=", 1) for item in request.headers["X-SSI-Signature"].split(","))
    mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts["v1"], mac)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.status = 200
        self.fail_next = 0
        self.hang = 0.0
        self.drip = False
        self.validate: Callable[[bytes], list[str]] | None = None
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hooks/ssi?source=tests") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self) -> int:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500
            return self.status

    def wait_for(self, n: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"expected {n} requests, got {len(self.requests)}")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            with contextlib.suppress(OSError):  # the client may have given up
                if receiver.drip:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(100):
                        self.wfile.write(b"X")
                        self.wfile.flush()
                        time.sleep(0.2)
                    return
                if receiver.hang:
                    time.sleep(receiver.hang)
                problems = receiver.validate(body) if receiver.validate else []
                status = 400 if problems else receiver.answer()
                answer = "; ".join(problems).encode() if problems else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
