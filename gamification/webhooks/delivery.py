"""One webhook request: the body, its signature, and the HTTP POST.

No Django and no database here: the service decides what to send and records
what came back. The POST uses the standard library's ``http.client`` directly:
it never follows redirects, never reads proxy settings from the environment,
and lets us connect to the address ``urls_guard`` checked (the name is not
resolved a second time).

A try is bounded by ``timeout`` seconds in total, connect, send and answer
together: a per-read timeout alone would let a receiver that drips one byte a
second hold a worker for ever. A timer shuts the socket down at the deadline.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gamification.webhooks.urls_guard import Target

USER_AGENT = "SSI-Cloud-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one try got: a status code (None when no answer came), an error, how long it took."""

    status_code: int | None
    error: str
    duration_ms: int
    # Failed on our side before anything was sent (URL refused, secret unavailable): says
    # nothing about the receiver, so it must not hold back the subscription's other deliveries.
    unsent: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def iso8601(moment: datetime) -> str:
    """UTC, with a ``Z``, as the API writes times."""
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def payload_body(*, event_id: str, type: str, created_at: datetime, data: Any) -> bytes:
    """The request body: ``{"id", "type", "created_at", "data"}``, compact UTF-8 JSON.

    The same bytes on every try of a delivery; only the signature's timestamp changes.
    """
    payload = {"id": event_id, "type": type, "created_at": iso8601(created_at), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def request_headers(*, secret: str, event_type: str, delivery_id: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-SSI-Event": event_type,
        "X-SSI-Delivery": delivery_id,
        "X-SSI-Signature": signature(secret=secret, timestamp=int(time.time()), body=body),
    }


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.passed = False

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            self.passed = True
            raise TimeoutError
        return left


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked addresses; the URL's host goes in the Host header only."""

    def __init__(self, target: Target, deadline: _Deadline) -> None:
        super().__init__(target.host, target.port, timeout=deadline.remaining())
        self.target = target
        self.deadline = deadline

    def _open(self) -> socket.socket:
        error: OSError = ConnectionRefusedError("no address to connect to")
        for address in self.target.addresses:
            try:
                return socket.create_connection((address, self.target.port), self.deadline.remaining())
            except TimeoutError:
                raise
            except OSError as exc:  # try the next address, as browsers do
                error = exc
        raise error

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    context = ssl.create_default_context()

    def connect(self) -> None:
        # The certificate is checked against the URL's host name, not the address.
        self.sock = self.context.wrap_socket(self._open(), server_hostname=self.target.host)


def _abort(connection: _PinnedHTTPConnection) -> None:
    connection.deadline.passed = True
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked read in the other thread


def post(*, target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> Outcome:
    """POST ``body`` to ``target``; never raises for what the network or the receiver does."""
    started = time.monotonic()
    deadline = _Deadline(timeout)
    status: int | None = None
    error = ""
    connection: _PinnedHTTPConnection | None = None
    timer: threading.Timer | None = None
    try:
        cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        connection = cls(target, deadline)
        timer = threading.Timer(timeout, _abort, args=(connection,))
        timer.daemon = True
        timer.start()
        connection.request("POST", target.path, body=body, headers=dict(headers))
        response = connection.getresponse()
        if deadline.passed:  # the timer cut the answer short: its status line proves nothing
            raise TimeoutError
        status = response.status
        if not 200 <= status < 300:
            error = f"HTTP {status} {response.reason}".strip()
    except TimeoutError:
        error = f"Timed out after {timeout:g} s."
    except ConnectionRefusedError:
        error = "Connection refused."
    except (OSError, http.client.HTTPException) as exc:  # ssl.SSLError is an OSError too
        if deadline.passed:  # the timer shut the socket down under a read
            error = f"Timed out after {timeout:g} s."
        else:
            prefix = "TLS error" if isinstance(exc, ssl.SSLError) else type(exc).__name__
            error = f"{prefix}: {exc}"[:500]
    finally:
        if timer is not None:
            timer.cancel()
        if connection is not None:
            connection.close()
    return Outcome(status_code=status, error=error, duration_ms=int((time.monotonic() - started) * 1000))
