"""The WSGI application gunicorn serves: Django's, reading chunked request bodies.

A body sent with ``Transfer-Encoding: chunked`` has no ``Content-Length``, and Django reads
a request without one as empty (``WSGIRequest`` limits its stream to ``CONTENT_LENGTH``, 0
when absent): a chunked batch of events would be answered as if nothing had been sent. gunicorn
decodes the chunks and says so with ``wsgi.input_terminated`` (its stream ends where the body
does), so ``application`` reads such a body first, up to one byte over ``SSI_MAX_BODY_BYTES``,
and hands Django the bytes with their length: the body is parsed as any other, and one too
large is the usual ``413 request_too_large``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def chunked_bodies_read(app: WSGIApp) -> WSGIApp:
    """``app``, given a chunked request body as one with a ``Content-Length``."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if _chunked_without_length(environ):
            body = environ["wsgi.input"].read(int(settings.SSI_MAX_BODY_BYTES) + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return application


def _chunked_without_length(environ: dict[str, Any]) -> bool:
    return (
        bool(environ.get("wsgi.input_terminated"))
        and not environ.get("CONTENT_LENGTH")
        and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


application = chunked_bodies_read(get_wsgi_application())
