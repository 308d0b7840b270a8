"""JSON bodies with a size limit: an oversize body is a 413, not a 500 or an out-of-memory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.utils import json as drf_json


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
            return drf_json.loads(text, parse_constant=drf_json.strict_constant if self.strict else None)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError("The body is not UTF-8.", code="parse_error") from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}", code="parse_error") from exc
        except RecursionError as exc:
            raise exceptions.ParseError("The JSON is nested too deeply.", code="parse_error") from exc
