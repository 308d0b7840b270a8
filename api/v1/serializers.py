"""Serializer building blocks shared by the v1 endpoints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from core.clock import parse_date
from core.errors import ValidationFailed

__all__ = [
    "ExternalIdField",
    "StrictInputSerializer",
    "TenantSlugField",
    "TimezoneField",
    "body_object",
    "external_id_list",
    "parse_date",
]


# A string, not an enum of the ~600 names: an enum would change with every tz database release,
# and generators turn it into identifiers that collide (``GMT0`` and ``GMT+0``).
TIMEZONE_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "pattern": r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$",
    "example": "Europe/Berlin",
    "description": "An IANA time zone name (the tz database), e.g. `Europe/Berlin`, `America/New_York` "
    "or `UTC`. A name the server's tz database does not know is a 400 `invalid_timezone`.",
}


@extend_schema_field(TIMEZONE_SCHEMA)
class TimezoneField(serializers.CharField):
    """A time zone name; validated by the service (``invalid_timezone``), its format in the schema."""


@extend_schema_field(
    {
        "type": "string",
        "minLength": 2,
        "maxLength": 40,
        "pattern": r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
        "description": "2-40 lowercase letters, digits and single hyphens, starting with a letter; "
        "the host is `<slug>.<base domain>`. A few names (`www`, `api`, `public`, ...) are reserved.",
    }
)
class TenantSlugField(serializers.CharField):
    """A tenant slug; validated by the service (``invalid_slug``), its pattern in the schema."""


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 128,
        "pattern": r"^[^/\s\x00-\x1f\x7f?#%\\]+$",
        "description": "The client's own id for the rep: 1-128 characters, without `/`, `?`, `#`, `%`, "
        "`\\` or whitespace.",
    }
)
class ExternalIdField(serializers.CharField):
    """A rep's external_id; validated by the service (``invalid_external_id``)."""


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
            wrong = {
                name: [ErrorDetail(f"Must be {expected}.", code="invalid_type")]
                for name, field in self.fields.items()
                if name in data and (expected := _wrong_json_type(field, data[name]))
            }
            if wrong:
                # The other fields' problems are reported too, as DRF would.
                try:
                    super().to_internal_value({k: v for k, v in data.items() if k not in wrong})
                except serializers.ValidationError as exc:
                    if isinstance(exc.detail, dict):
                        raise serializers.ValidationError({**exc.detail, **wrong}) from exc
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


def _wrong_json_type(field: serializers.Field, value: Any) -> str | None:
    """What the JSON value should have been, when DRF would coerce it (``0`` to ``"0"`` or ``False``).

    The schema says ``string``/``boolean``/``integer``/``number``; a JSON value of
    another type is a 400, as the schema promises, not silently converted.
    """
    if value is None or field.read_only:
        return None  # null: the field's own allow_null decides
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(field, serializers.ChoiceField | serializers.CharField):
        return None if isinstance(value, str) else "a string"
    if isinstance(field, serializers.IntegerField | serializers.FloatField | serializers.DecimalField):
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "a number"
    return None


def body_object(
    data: Any,
    *,
    allowed: Iterable[str] | None = None,
    message: str = "The body must be an object.",
    code: str = "invalid_type",
) -> Mapping[str, Any]:
    """A JSON object body, refusing fields outside ``allowed`` (for hand-parsed endpoints)."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(message, code=code)
    if allowed is not None:
        permitted = set(allowed)
        for name in data:
            if name not in permitted:
                raise ValidationFailed("Unknown field.", code="unknown_field", attr=str(name))
    return data


def external_id_list(value: Any, *, attr: str) -> list[str]:
    """A list of rep external_ids (as given; existence is checked by the caller)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationFailed("A list of rep external_ids.", code="invalid_type", attr=attr)
    return value
