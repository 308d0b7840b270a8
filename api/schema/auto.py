"""drf-spectacular's AutoSchema for this API: the error answers of every operation, the
fields an answer always carries, and bearer auth.

drf-spectacular documents the success answer; this adds the shared ``Error``
shape for each error status an operation can give, so clients see them all.
"""

from __future__ import annotations

import inspect
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse

from api.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: each problem names its field in `attr`.",
    "401": "No token, a malformed header, or an invalid or revoked token (`WWW-Authenticate: Bearer`).",
    "403": "The token is valid but may not do this (on a tenant host, also: the tenant is suspended, "
    "`tenant_suspended`).",
    "404": "No such resource, or no such tenant for the host or `X-Tenant` header.",
    "409": "Conflicts with the current state (an identifier that exists, the last admin key or member).",
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
        elif self.get_filter_backends() or (
            # A list, or a read that takes query parameters (a date, a period): those are checked;
            # so are a delete's (a purge's confirmation).
            (self.method == "GET" and (self._is_list_view() or self.get_override_parameters()))
            or (self.method == "DELETE" and self.get_override_parameters())
        ):
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

    def _map_serializer(self, serializer: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        from api.v1.serializers import StrictInputSerializer

        result = super()._map_serializer(serializer, direction, bypass_extensions)
        inherited = inspect.cleandoc(StrictInputSerializer.__doc__ or "")
        if isinstance(serializer, StrictInputSerializer) and result.get("description") == inherited:
            del result["description"]  # the base class's docstring
        if direction == "response":
            _always_present(serializer, result)
        return result


def _always_present(serializer: Any, component: dict[str, Any]) -> None:
    """An answer carries every field of its serializer, but those declared ``required=False``.

    drf-spectacular marks a response field required only when its serializer field
    is; a model field with a default is not, yet the answer always has it. Typed
    clients would make every such field optional.
    """
    declared = getattr(serializer, "_declared_fields", {})
    optional = {name for name, field in declared.items() if field._kwargs.get("required") is False}
    required = [name for name in component.get("properties", {}) if name not in optional]
    if required:
        component["required"] = required


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
