"""``/api/v1/leaderboards/{metric}``: reps ranked by a metric (docs/gamification.md#leaderboards)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import PagePagination
from api.permissions import ADMIN, any_rep_or_key_roles
from api.v1.serializers import parse_date
from core.errors import ValidationFailed
from gamification.leaderboards import DEFAULT_PERIOD, PERIODS, LeaderboardRow, leaderboard_get
from tenants.tenant_settings import settings_get

MAX_ID = 2**63 - 1


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(
        help_text="Competition ranking: equal values share a rank, the next rank skips (1, 1, 3)."
    )
    rep = serializers.CharField(
        allow_null=True,
        help_text="The rep's external_id; null for other reps when a rep token reads an anonymous board.",
    )
    name = serializers.CharField(
        allow_null=True,
        help_text="The rep's name; null for other reps when a rep token reads an anonymous board.",
    )
    value = serializers.FloatField(
        help_text="ssi/pillar.*: 0-100 rounded to 2 decimals; xp and events.*: a whole number."
    )
    top_percent = serializers.IntegerField(help_text="ceil(100 * rank / count).")


class LeaderboardSerializer(serializers.Serializer):
    metric = serializers.CharField()
    period = serializers.ChoiceField(choices=PERIODS, help_text="Ignored by ssi and pillar.* (one day).")
    date = serializers.DateField(help_text="The day asked for, or the default.")
    start = serializers.DateField(allow_null=True, help_text="First day counted; null for `all`.")
    end = serializers.DateField(help_text="Last day counted.")
    team = serializers.IntegerField(allow_null=True, help_text="The team filter, or null.")
    count = serializers.IntegerField(help_text="Reps ranked.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LeaderboardRowSerializer(many=True)
    me = LeaderboardRowSerializer(
        allow_null=True,
        help_text=(
            "Rep tokens: the token's rep's own row, wherever it is in the ranking; null when the rep "
            "is not on the board (inactive, another team, no snapshot that day). Keys: always null."
        ),
    )


def _team(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise ValidationFailed("A team id.", code="invalid", attr="team")
    return int(value)


class LeaderboardView(APIView):
    permission_classes = [any_rep_or_key_roles(write=ADMIN)]
    extra_error_statuses = ["400"]

    @extend_schema(
        tags=["leaderboards"],
        summary="Reps ranked by a metric",
        description=(
            "Metrics: `ssi`, `pillar.brand`, `pillar.find`, `pillar.engage`, `pillar.relationships` "
            "(each rep's snapshot of `date`, rounded to 2 decimals; `period` does not apply; reps "
            "without a snapshot that day are not listed), `xp` (XP earned within the period) and "
            "`events.<type>` (events of that type within the period; every active rep is listed, 0 "
            "without data). Only active reps are ranked. Periods: `day` (`date`), `week` (its ISO "
            "week, Monday to Sunday), `month` (its calendar month), `all` (everything up to `date`). "
            "Rows are in rank order, then `external_id`. An unknown metric (or event type) is a 404 "
            "`unknown_metric`.\n\n"
            "Rep tokens may read every board; their answer carries their own row as `me`. When the "
            "tenant's `leaderboard_names` setting is `anonymous`, a rep token sees other reps' `rep` "
            "and `name` as null (keys always see them)."
        ),
        parameters=[
            OpenApiParameter(
                "metric",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="`ssi`, `pillar.<brand|find|engage|relationships>`, `xp` or `events.<type>`.",
            ),
            OpenApiParameter(
                "period", OpenApiTypes.STR, enum=list(PERIODS), description=f"Default `{DEFAULT_PERIOD}`."
            ),
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                description=(
                    "YYYY-MM-DD; default: the latest scored day (for `xp` and `events.*` before any "
                    "day is scored: the tenant's local today)."
                ),
            ),
            OpenApiParameter(
                "team",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="Rank only the reps of this team (by id).",
            ),
            OpenApiParameter("page", {"type": "integer", "minimum": 1}, description="Page number (from 1)."),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1},
                description="Rows per page: default 50; more than 500 is capped to 500.",
            ),
        ],
        responses={200: LeaderboardSerializer},
    )
    def get(self, request: Request, metric: str) -> Response:
        params = request.query_params
        tenant = request.tenant  # type: ignore[attr-defined]
        board = leaderboard_get(
            tenant=tenant,
            metric=metric,
            period=params.get("period") or None,
            day=parse_date(params.get("date"), "date"),
            team=_team(params.get("team")),
        )
        principal = request.user
        me_id = getattr(principal, "rep_id", None) if getattr(principal, "kind", None) == "rep" else None
        anonymous = me_id is not None and settings_get(tenant)["leaderboard_names"] == "anonymous"

        def row(r: LeaderboardRow) -> dict[str, Any]:
            hidden = anonymous and r.rep_id != me_id
            return {
                "rank": r.rank,
                "rep": None if hidden else r.external_id,
                "name": None if hidden else r.name,
                "value": r.value,
                "top_percent": r.top_percent,
            }

        paginator = PagePagination()
        # The board is paged like a queryset: count() and a slice, each one SQL statement.
        page: list[LeaderboardRow] = (
            paginator.paginate_queryset(board, request, view=self) or []  # type: ignore[arg-type]
        )
        response = paginator.get_paginated_response([row(r) for r in page])
        me = board.row_of(me_id) if me_id is not None else None
        response.data = {
            "metric": board.metric.name,
            "period": board.period,
            "date": board.day,
            "start": board.start,
            "end": board.end,
            "team": board.team_id,
            **response.data,
            "me": row(me) if me is not None else None,
        }
        return response
