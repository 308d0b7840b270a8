"""Query-string filters that refuse values they cannot read (a 400, not a silent no-op)."""

from __future__ import annotations

import django_filters
from django import forms


class IntegerFilter(django_filters.NumberFilter):
    """An integer: ``?team=1.5`` is a 400, not team 1."""

    field_class = forms.IntegerField


class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """``true`` or ``false`` only: django-filter's BooleanFilter ignores ``?active=maybe``."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)
