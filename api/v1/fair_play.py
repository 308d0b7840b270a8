"""``/api/v1/fair-play/flags``: reps whose daily counts of a type stand far above everyone's
(docs/api.md#fair-play-flags, docs/gamification.md#daily-caps-fair-play)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.models import Role
from api.pagination import PagePagination
from api.permissions import ADMIN, key_roles
from core.errors import ValidationFailed
from gamification.fair_play import DEFAULT_DAYS, MAX_DAYS, Flag, fair_play_flags_get

# Admin and read keys: the report judges the data an integration key sends, so it is not that
# key's; rep tokens never.
FLAGS_READ = key_roles(read={Role.ADMIN.value, Role.READ.value}, write=ADMIN)


class FlagDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A local day of the rep's above the threshold.")
    count = serializers.IntegerField(
        help_text="The events of the type the rep had that day (stored, uncapped)."
    )


class FlagSerializer(serializers.Serializer):
    rep = serializers.CharField(help_text="The rep's external_id.")
    name = serializers.CharField(help_text="The rep's name.")
    type = serializers.CharField(help_text="The event type.")
    threshold = serializers.FloatField(
        help_text="The type's 99th percentile of daily counts over the window times `fair_play_factor`: "
        "a day counts here when its count is greater."
    )
    days = FlagDaySerializer(many=True, help_text="The rep's days above the threshold, oldest first.")


class FlagsSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="The window's length in local days.")
    start = serializers.DateField(help_text="The window's first local day.")
    end = serializers.DateField(help_text="The window's last local day: the tenant's today.")
    factor = serializers.FloatField(help_text="The tenant's `fair_play_factor`.")
    count = serializers.IntegerField(help_text="Flagged (rep, type) pairs.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = FlagSerializer(many=True)


def _days(value: str | None) -> int:
    if value in (None, ""):
        return DEFAULT_DAYS
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise ValidationFailed(f"A whole number from 1 to {MAX_DAYS}.", code="invalid", attr="days")
    return int(value)


def _row(flag: Flag) -> dict[str, Any]:
    return {
        "rep": flag.external_id,
        "name": flag.name,
        "type": flag.type,
        "threshold": flag.threshold,
        "days": [{"date": d.day, "count": d.count} for d in flag.days],
    }


class FairPlayFlagsView(APIView):
    permission_classes = [FLAGS_READ]
    extra_error_statuses = ["400"]

    @extend_schema(
        tags=["fair-play"],
        summary="Reps whose daily counts of a type stand far above everyone's",
        description=(
            "For each event type, the 99th percentile of the daily counts of that type over the last "
            "`days` local days (today included; one count per rep and day with events of the type, as "
            "PostgreSQL's `percentile_cont` interpolates it), times the tenant's `fair_play_factor` "
            "(default 3), is the type's threshold; a rep is listed, once per type, with each day whose "
            "count is greater than it. Counts are the stored events (a daily cap does not lower them). "
            "Rows are in order of `rep` (external_id), then `type`. Admin and read keys."
        ),
        parameters=[
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
                description=f"The window in local days, 1 to {MAX_DAYS}; default {DEFAULT_DAYS}.",
            ),
            OpenApiParameter("page", {"type": "integer", "minimum": 1}, description="Page number (from 1)."),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1},
                description="Rows per page: default 50; more than 500 is capped to 500.",
            ),
        ],
        responses={200: FlagsSerializer},
    )
    def get(self, request: Request) -> Response:
        days = _days(request.query_params.get("days"))
        flags = fair_play_flags_get(tenant=request.tenant, days=days)  # type: ignore[attr-defined]
        paginator = PagePagination()
        page: list[Flag] = paginator.paginate_queryset(flags, request, view=self) or []  # type: ignore[arg-type]
        response = paginator.get_paginated_response([_row(f) for f in page])
        response.data = {
            "days": days,
            "start": flags.first,
            "end": flags.last,
            "factor": flags.factor,
            **response.data,
        }
        return response
