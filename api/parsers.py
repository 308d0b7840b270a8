"""JSON bodies with a size limit: an oversize body is a 413, not a 500 or an out-of-memory.

A key given twice in one object is a 400 ``duplicate_key``: JSON parsers disagree on which
value wins, so a body must not depend on it.

What the database or the answer could not hold is a 400 naming where it is, instead of the
500 it would become further on (``BODY_CHECKS``): text holding U+0000 (``\\u0000``: PostgreSQL
stores it in neither text nor jsonb), text holding a lone surrogate (``\\ud800``: it has no
UTF-8 form, see ``core.text``), and a number beyond what a 64-bit float holds (a 400-digit
integer, ``1e400``). Each check first looks at the raw text, where such a value must show
(an escape, a long run of digits, a three-digit exponent), and walks the parsed body only
then: an ordinary body costs a few scans of its text. A view whose body items are validated
one by one (ingestion: a bad event is listed in ``rejected``) sets ``checked_per_item = True``
and makes these checks itself.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping
from typing import IO, Any, NamedTuple

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.utils import json as drf_json

from core.errors import ValidationFailed
from core.text import has_lone_surrogate, shown


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
        if not getattr(view, "checked_per_item", False):
            refuse_unstorable(text, data)
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
                    "A key appears twice in the same JSON object.",
                    code="duplicate_key",
                    attr=shown(key[:128]),
                )
            seen.add(key)
    return data


def has_nul(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value


def has_surrogate(value: Any) -> bool:
    return isinstance(value, str) and has_lone_surrogate(value)


def out_of_float_range(value: Any) -> bool:
    """A number no 64-bit float holds: an integer beyond ±1.8e308, or a literal that overflowed
    to infinity while parsing (``1e400``; the literals ``NaN`` and ``Infinity`` are not JSON)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max


class BodyCheck(NamedTuple):
    """One kind of value refused in any body: ``may_hold`` looks at the raw text (cheap, and
    true whenever the body could hold one), ``refuses`` at one parsed value or key."""

    may_hold: Callable[[str], object]
    refuses: Callable[[Any], bool]
    code: str
    detail: str


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# 309 digits in a row, or an exponent of 100 or more: the only spellings of a number beyond 1.8e308.
_LONG_NUMBER = re.compile(r"[0-9]{309}|[eE]\+?0*[1-9][0-9]{2}")

BODY_CHECKS = (
    BodyCheck(
        lambda text: "\\u0000" in text,
        has_nul,
        "null_characters_not_allowed",
        "Text cannot contain NUL (U+0000) characters.",
    ),
    BodyCheck(
        _SURROGATE_ESCAPE.search,
        has_surrogate,
        "surrogate_characters_not_allowed",
        "Text cannot contain a lone surrogate (an escape from \\ud800 to \\udfff without its pair).",
    ),
    BodyCheck(
        _LONG_NUMBER.search,
        out_of_float_range,
        "number_out_of_range",
        "A number is beyond what a 64-bit float holds (about ±1.8e308).",
    ),
)


def refuse_unstorable(text: str, data: Any) -> None:
    """A 400 naming the first value of the body one of ``BODY_CHECKS`` refuses, if any."""
    for check in BODY_CHECKS:
        if check.may_hold(text):
            path = refused_path(data, check.refuses)
            if path is not None:
                raise ValidationFailed(check.detail, code=check.code, attr=path or None)


def refused_path(value: Any, refuses: Callable[[Any], bool], path: str = "") -> str | None:
    """The dotted path of the first value (or object key) ``refuses`` is true of, or None.
    "" is the body itself."""
    if refuses(value):
        return path
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{shown(str(key))}" if path else shown(str(key))
            if refuses(key):
                return child
            found = refused_path(item, refuses, child)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = refused_path(item, refuses, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None
