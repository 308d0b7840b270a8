"""Query-string filters that refuse values they cannot read (a 400, not a silent no-op)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone as dj_timezone
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


@extend_schema_field({"type": "integer"})
class IntegerFilter(django_filters.Filter):
    """An integer: ``?team=1.5`` is a 400, not team 1."""

    field_class = forms.IntegerField


@extend_schema_field({"type": "string", "enum": ["true", "false"], "description": "`true` or `false`."})
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """``true`` or ``false`` only: django-filter's BooleanFilter ignores ``?active=maybe``."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, in UTC before it reaches the database.

    PostgreSQL refuses offsets past ±15:59 (``-18:46`` is valid ISO 8601, and the
    database's error would be a 500); an instant outside years 1-9999 once in UTC is a 400 too.
    """

    def to_python(self, value: Any) -> Any:
        parsed = super().to_python(value)
        if parsed is None or dj_timezone.is_naive(parsed):
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("Out of range once in UTC.", code="invalid") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """django-filter's, on :class:`UtcIsoDateTimeField`."""

    field_class = UtcIsoDateTimeField


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that an empty typed value (``?since=``, ``?team=``) is a 400.

    django-filter skips empty values, so ``?since=`` would list everything; only
    text filters (where an empty string is a value) keep that behaviour.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            blank = {
                name: ["May not be blank."]
                for name, flt in filterset.filters.items()
                if not isinstance(flt, django_filters.CharFilter)
                and name in request.query_params
                and not request.query_params.get(name, "").strip()
            }
            if blank:
                raise ValidationError(blank)
        return super().filter_queryset(request, queryset, view)
