"""The one error shape of the API, for every status.

    {"type": "validation_error" | "client_error" | "server_error",
     "errors": [{"code": "required", "detail": "This field is required.", "attr": "name"}]}

``attr`` names the field a problem concerns, as a dotted path into the
request body (``pillars.engage.signals.4.target``), or ``null``. DRF exceptions, domain
errors (``core.errors.DomainError``), Django's 404/403, a database that is
down (503 with ``Retry-After``) and anything unexpected (500, logged) all come
out in this shape; so do the URL-level 404 and 500 handlers. A database error
is a 503 only when the database cannot be reached (``core.db.database_unavailable``):
a statement PostgreSQL refuses is a bug, a 500 that a retry would not mend.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.db import database_unavailable
from core.errors import DomainError
from core.text import shown

logger = logging.getLogger(__name__)

DB_RETRY_AFTER_SECONDS = 5

DATABASE_UNAVAILABLE_CODE = "service_unavailable"
DATABASE_UNAVAILABLE_DETAIL = "The database is unavailable; retry later."


def database_unavailable_response() -> JsonResponse:
    return error_response(
        503,
        DATABASE_UNAVAILABLE_CODE,
        DATABASE_UNAVAILABLE_DETAIL,
        headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
    )


def error_type(status_code: int) -> str:
    if status_code >= 500:
        return "server_error"
    return "validation_error" if status_code == 400 else "client_error"


def error_body(status_code: int, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": error_type(status_code), "errors": [_sendable(error) for error in errors]}


def _sendable(error: dict[str, Any]) -> dict[str, Any]:
    """An error whose ``detail`` and ``attr`` may repeat what the client sent (an unknown field's
    name, a value that is not a choice): a lone surrogate there has no UTF-8 form, and the
    answer would fail to render (a 500). It is sent as its escape text (``core.text.shown``)."""
    return {
        name: shown(value) if name in ("detail", "attr") and isinstance(value, str) else value
        for name, value in error.items()
    }


def error_response(
    status_code: int, code: str, detail: str, attr: str | None = None, headers: dict[str, str] | None = None
) -> JsonResponse:
    """An error answer outside DRF (middleware, URL handlers)."""
    response = JsonResponse(
        error_body(status_code, [{"code": code, "detail": detail, "attr": attr}]), status=status_code
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def flatten_validation_errors(detail: Any, prefix: str | None = None) -> Iterator[dict[str, Any]]:
    """DRF's nested error structure as a flat list with dotted ``attr`` paths."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                yield from flatten_validation_errors(value, prefix)
            else:
                yield from flatten_validation_errors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                yield from flatten_validation_errors(value, f"{prefix}.{index}" if prefix else str(index))
            else:
                yield from flatten_validation_errors(value, prefix)
    else:
        yield {"code": getattr(detail, "code", "invalid"), "detail": str(detail), "attr": prefix}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        status_code = exc.status
        errors = [{"code": exc.code, "detail": exc.detail, "attr": exc.attr}]
    elif isinstance(exc, exceptions.ValidationError):
        status_code = status.HTTP_400_BAD_REQUEST
        errors = list(flatten_validation_errors(exc.detail)) or [
            {"code": "invalid", "detail": "Invalid input.", "attr": None}
        ]
    elif isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(math.ceil(exc.wait))  # type: ignore[attr-defined]
        codes = exc.get_codes()
        errors = [
            {
                "code": codes if isinstance(codes, str) else exc.default_code,
                "detail": str(exc.detail),
                "attr": None,
            }
        ]
    elif isinstance(exc, Http404):
        status_code = 404
        errors = [{"code": "not_found", "detail": "Not found.", "attr": None}]
    elif isinstance(exc, PermissionDenied):
        status_code = 403
        errors = [{"code": "permission_denied", "detail": "You may not do this.", "attr": None}]
    elif isinstance(exc, RequestDataTooBig):
        status_code = 413
        errors = [{"code": "request_too_large", "detail": "The request body is too large.", "attr": None}]
    elif database_unavailable(exc):
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        status_code = 503
        headers["Retry-After"] = str(DB_RETRY_AFTER_SECONDS)
        errors = [{"code": DATABASE_UNAVAILABLE_CODE, "detail": DATABASE_UNAVAILABLE_DETAIL, "attr": None}]
    else:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        status_code = 500
        errors = [{"code": "server_error", "detail": "An unexpected error occurred.", "attr": None}]
    set_rollback()
    return Response(error_body(status_code, errors), status=status_code, headers=headers)


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's own 400s (a suspicious operation, a malformed request) in the API's shape."""
    return error_response(400, "bad_request", "The request is malformed.", None)


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(
        403, "permission_denied", "You do not have permission to perform this action.", None
    )


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(404, "not_found", "No such endpoint.", None)


def handler500(request: HttpRequest) -> JsonResponse:
    # Called while the exception is being handled: a database outage that escaped
    # the views (a middleware, a commit outside DRF) is still a 503, not a 500.
    exc = sys.exc_info()[1]
    if exc is not None and database_unavailable(exc):
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        return database_unavailable_response()
    return error_response(500, "server_error", "An unexpected error occurred.", None)


# The shape, for the OpenAPI schema (and the items of a batch's `rejected`).
class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable code, e.g. `required`, `invalid_token`, `not_found`."
    )
    detail = serializers.CharField(help_text="Human-readable explanation.")
    attr = serializers.CharField(
        allow_null=True,
        help_text="The field concerned, as a dotted path into the request (`events.3.type`), or null.",
    )


class ErrorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["validation_error", "client_error", "server_error"])
    errors = ErrorItemSerializer(many=True)  # type: ignore[assignment]

    class Meta:
        ref_name = "Error"
