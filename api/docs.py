"""The OpenAPI document and the Swagger UI page, whose errors are JSON like every other answer.

drf-spectacular's views render an error with their own renderer: ``?format=openapi`` on the
docs page was an HTML 404, a bad ``?format=`` on the schema a YAML one.
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView


def _json_error(view: APIView, exc: Exception) -> Response:
    view.request.accepted_renderer = JSONRenderer()
    view.request.accepted_media_type = "application/json"
    return APIView.handle_exception(view, exc)


class SchemaView(SpectacularAPIView):
    """``/api/v1/schema/``: the OpenAPI document (YAML, or JSON with ``?format=json``)."""

    def handle_exception(self, exc: Exception) -> Response:
        return _json_error(self, exc)


class DocsView(SpectacularSwaggerSplitView):
    """``/api/v1/docs/``: Swagger UI, its assets served from this host."""

    def handle_exception(self, exc: Exception) -> Response:
        return _json_error(self, exc)
