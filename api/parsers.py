"""JSON bodies with a size limit: an oversize body is a 413, not a 500 or an out-of-memory.

A key given twice in one object is a 400 ``duplicate_key``: JSON parsers disagree on which
value wins, so a body must not depend on it.

Text holding U+0000 (``\\u0000`` in the JSON) is a 400 naming where it is:
PostgreSQL cannot store it (text nor jsonb), and its error there would be a
500. A view whose body items are validated one by one (ingestion: a bad event
is listed in ``rejected``) sets ``nul_checked_per_item = True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.utils import json as drf_json

from core.errors import ValidationFailed


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class LimitedJSONParser(JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        limit = int(settings.SSI_MAX_BODY_BYTES)
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            text = raw.decode("utf-8")
            data = drf_json.loads(
                text,
                parse_constant=drf_json.strict_constant if self.strict else None,
                object_pairs_hook=_object_without_duplicate_keys,
            )
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError("The body is not UTF-8.", code="parse_error") from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}", code="parse_error") from exc
        except RecursionError as exc:
            raise exceptions.ParseError("The JSON is nested too deeply.", code="parse_error") from exc
        view = (parser_context or {}).get("view")
        if "\\u0000" in text and not getattr(view, "nul_checked_per_item", False):
            path = nul_path(data)
            if path is not None:
                raise ValidationFailed(
                    "Text cannot contain NUL (U+0000) characters.",
                    code="null_characters_not_allowed",
                    attr=path or None,
                )
        return data


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict; a key given twice is a 400 (``{"role": "read", "role": "admin"}``
    would otherwise be read as its last value, unseen by whoever checked the first)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValidationFailed(
                    "A key appears twice in the same JSON object.", code="duplicate_key", attr=key[:128]
                )
            seen.add(key)
    return data


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) holding U+0000, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return child.replace("\x00", "\\u0000")
            found = nul_path(item, child)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None
