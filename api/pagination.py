"""Page and cursor pagination; a ``page_size`` that is not a positive integer is a 400.

DRF silently falls back to the default page size on ``?page_size=0`` or
``?page_size=abc``; a client that typed it wrong would never know. Sizes over
the maximum are capped (documented), not refused.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request


def _strict_page_size(request: Request, param: str, default: int, maximum: int) -> int:
    raw = request.query_params.getlist(param)
    if not raw:
        return default
    if len(raw) > 1 or not raw[0].isascii() or not raw[0].isdigit() or int(raw[0]) < 1:
        raise ValidationError({param: [f"A whole number from 1 (at most {maximum} are returned)."]})
    return min(int(raw[0]), maximum)


class PagePagination(PageNumberPagination):
    """``?page=N&page_size=M`` (at most 500)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        return _strict_page_size(request, self.page_size_query_param, self.page_size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return _documented(super().get_schema_operation_parameters(view), self.max_page_size, page=True)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return _links_always_present(super().get_paginated_response_schema(schema), "page=4", "page=2")


class FeedPagination(CursorPagination):
    """Opaque cursors for feeds that grow while they are read."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"

    def get_page_size(self, request: Request) -> int:
        return _strict_page_size(request, self.page_size_query_param, self.page_size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return _documented(super().get_schema_operation_parameters(view), self.max_page_size, page=False)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # DRF's own cursor example ends in a stray quote: not a URI.
        return _links_always_present(
            super().get_paginated_response_schema(schema), "cursor=cD00ODY%3D", "cursor=cj0xJnA9NDg3"
        )


def _links_always_present(page: dict[str, Any], next_query: str, previous_query: str) -> dict[str, Any]:
    """Every page carries ``next`` and ``previous`` (null at either end), with examples of ours."""
    properties = page["properties"]
    properties["next"]["example"] = f"https://acme.example.com/api/v1/awards?{next_query}"
    properties["previous"]["example"] = f"https://acme.example.com/api/v1/awards?{previous_query}"
    page["required"] = list(properties)
    return page


def _documented(parameters: list[dict[str, Any]], maximum: int, *, page: bool) -> list[dict[str, Any]]:
    for parameter in parameters:
        if parameter["name"] == "page_size":
            parameter["schema"] = {"type": "integer", "minimum": 1}
            parameter["description"] = (
                f"Results per page, from 1; larger than {maximum} is capped to {maximum}."
            )
        elif page and parameter["name"] == "page":
            parameter["schema"] = {"type": "integer", "minimum": 1}
    return parameters
