"""OpenAPI: bearer auth, and the error answers of every operation.

drf-spectacular documents the success answer; this adds the shared ``Error``
shape for each error status an operation can give, so clients see them all.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


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


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: each problem names its field in `attr`.",
    "401": "No token, a malformed header, or an invalid or revoked token (`WWW-Authenticate: Bearer`).",
    "403": "The token is valid but may not do this.",
    "404": "No such resource, or no such tenant for the host or `X-Tenant` header.",
    "409": "Conflicts with the current state (an identifier that exists, the last admin key).",
    "413": "The request body is larger than the limit.",
    "415": "The body is not `application/json`.",
    "422": "The `Idempotency-Key` was used before with another request body.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
    "500": "An unexpected error; it is logged.",
    "503": "A dependency (the database) is unavailable; retry after `Retry-After` seconds.",
}


class AutoSchema(BaseAutoSchema):
    def _error_statuses(self) -> list[str]:
        statuses = ["404", "500", "503"]
        if any(self.get_auth()):  # drf-spectacular gives [{}] for endpoints without auth
            statuses += ["401", "403", "429"]
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += ["400", "409", "413", "415"]
        elif self.get_filter_backends() or (self.method == "GET" and self._is_list_view()):
            statuses.append("400")
        statuses += getattr(self.view, "extra_error_statuses", [])
        return sorted(set(statuses))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_statuses():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                )
        return responses


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "`Authorization: Bearer <token>`: a platform key (`ssip_…`) on the platform host; "
                "a tenant API key (`ssik_…`) or a rep token (`ssir_…`) on a tenant host."
            ),
        }
