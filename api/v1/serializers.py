"""Serializer building blocks shared by the v1 endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know.

    A typo in a field name is a 400 naming the field, not a silent no-op.
    Read-only fields of the matching output (``ignored_fields``) may be sent
    back unchanged, so a client can GET, edit and PUT the same object.
    """

    ignored_fields: tuple[str, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in self.fields and key not in self.ignored_fields]
            if unknown:
                raise serializers.ValidationError(
                    {str(key): [ErrorDetail("Unknown field.", code="unknown_field")] for key in unknown}
                )
        return super().to_internal_value(data)
