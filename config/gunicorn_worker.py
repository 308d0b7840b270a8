"""gunicorn's sync worker, answering as the API does.

gunicorn answers some requests itself, before Django sees them: a request line it cannot
parse (400), a URL longer than ``--limit-request-line`` (414), more or larger headers than
``--limit-request-fields`` / ``--limit-request-field_size`` allow (431), a transfer coding it
does not support (501). Its pages are HTML; a client of the API gets the API's JSON error
shape instead (docs/api.md "Errors"), with the security headers every answer of Django
carries. gunicorn also names itself in a ``Server`` header on every answer, which tells a
scanner whose vulnerabilities to try; this worker sends none.

gunicorn writes its page in ``Worker.handle_error``, after deciding the status, logging a
warning and the access line. ``SyncWorker.handle_error`` lets it do all that on a stand-in
for the client's socket, reads the status from the page it wrote there, and sends the JSON
answer to the client. The ``Server`` header comes from the ``Response`` class gunicorn builds
each answer with (``gunicorn.http.wsgi.Response``), which this worker replaces in its own
process. ``tests/config/test_gunicorn.py`` checks both on a real gunicorn.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers import sync

# gunicorn's status -> our code and detail. gunicorn's own message is not repeated: it
# quotes the request, which may hold a token.
ERRORS = {
    400: ("bad_request", "The request is malformed."),
    403: ("permission_denied", "The request is forbidden."),
    414: ("uri_too_long", "The URL is too long."),
    417: ("expectation_failed", "Only 'Expect: 100-continue' is supported."),
    431: ("headers_too_large", "The request has too many headers, or one too large."),
    500: ("server_error", "An unexpected error occurred."),
    501: ("not_implemented", "This transfer coding is not supported."),
}
# What api.middleware and Django's SecurityMiddleware put on every API answer.
SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


def error_type(status: int) -> str:
    """As ``api.errors.error_type`` (not imported: this module loads before Django)."""
    if status >= 500:
        return "server_error"
    return "validation_error" if status == 400 else "client_error"


def error_answer(status: int, reason: str) -> bytes:
    """The whole HTTP answer: our error shape for ``status``, the connection closed after it."""
    code, detail = ERRORS.get(status) or ERRORS[500 if status >= 500 else 400]
    body = json.dumps(
        {"type": error_type(status), "errors": [{"code": code, "detail": detail, "attr": None}]}
    ).encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "Connection: close",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in SECURITY_HEADERS),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def status_of(page: bytes) -> tuple[int, str]:
    """(status, reason) of the answer gunicorn wrote; (500, ...) if it wrote none we can read."""
    first_line = page.split(b"\r\n", 1)[0].decode("latin-1")
    _version, _, rest = first_line.partition(" ")
    status, _, reason = rest.partition(" ")
    if not status.isdigit():
        return 500, "Internal Server Error"
    return int(status), reason or "Error"


class _PageKeeper:
    """Stands for the client's socket while gunicorn writes its error page: keeps the bytes.

    gunicorn writes it with ``util.write_nonblock``: a socket without a timeout (0.0) is
    written to at once, with ``sendall``."""

    def __init__(self) -> None:
        self.page = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.page += data


class _ResponseWithoutServer(wsgi.Response):
    """gunicorn's answer without its ``Server`` header."""

    def default_headers(self) -> list[str]:
        return [line for line in super().default_headers() if not line.startswith("Server:")]


class SyncWorker(sync.SyncWorker):
    """gunicorn's sync worker (``--worker-class config.gunicorn_worker.SyncWorker``)."""

    def init_process(self) -> None:
        # The class gunicorn.http.wsgi.create builds every answer with, in this process only.
        wsgi.Response = _ResponseWithoutServer
        super().init_process()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        keeper = _PageKeeper()
        super().handle_error(req, keeper, addr, exc)
        status, reason = status_of(keeper.page)
        try:
            util.write_nonblock(client, error_answer(status, reason))
        except Exception:
            self.log.debug("Failed to send error message.")
