"""``/api/v1/contest-series``: recurring contests, a contest every week or month (docs/contests.md)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.actors import actor_of
from api.pagination import PagePagination
from api.permissions import ADMIN, key_roles
from api.v1.contests import METRIC_HELP, AggregateField, ParticipantsField, PrizeSerializer
from api.v1.serializers import body_object
from gamification.models import Contest, ContestSeries
from gamification.services.contest_series import (
    SERIES_FIELDS,
    SERIES_NAME_MAX,
    contest_series_create,
    contest_series_delete,
    contest_series_update,
)

READ_ONLY_ECHO = ("id", "created_at", "updated_at")
SERIES_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The series' id.")
EVERY_HELP = "`week`: ISO weeks, Monday to Sunday; `month`: calendar months (local days, the tenant's zone)."
STARTS_ON_HELP = (
    "The first season's first day: a Monday (`week`) or the 1st of a month (`month`), not of a season "
    "already over. Fixed once a season has opened."
)
WRITE_ROLES = "Admin keys."


class ContestSeriesSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="Each season's contest is named `<name> · <season>`.")
    metric = serializers.CharField(help_text=METRIC_HELP)
    kind = serializers.ChoiceField(choices=Contest.Kind.values)
    target = serializers.FloatField(allow_null=True, help_text="Races: the value to reach; null otherwise.")
    aggregate = AggregateField(allow_null=True, help_text="Teams contests: avg or sum; null otherwise.")
    participants = ParticipantsField()
    prizes = PrizeSerializer(many=True)
    every = serializers.ChoiceField(choices=ContestSeries.Every.values, help_text=EVERY_HELP)
    starts_on = serializers.DateField(help_text=STARTS_ON_HELP)
    active = serializers.BooleanField(help_text="false: no season opens (those opened stay).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _fields(*, partial: bool) -> dict[str, serializers.Field]:
    required = not partial
    return {
        "name": serializers.CharField(max_length=SERIES_NAME_MAX, required=required),
        "metric": serializers.CharField(required=required, help_text=METRIC_HELP),
        "kind": serializers.ChoiceField(choices=Contest.Kind.values, required=required),
        "target": serializers.FloatField(
            required=False, allow_null=True, help_text="Required for a race (> 0); refused otherwise."
        ),
        "aggregate": AggregateField(
            required=False,
            allow_null=True,
            help_text="`avg` or `sum`: required for a teams contest; refused otherwise.",
        ),
        "participants": ParticipantsField(required=required),
        "prizes": PrizeSerializer(many=True, required=False, help_text="Default: none."),
        "every": serializers.ChoiceField(
            choices=ContestSeries.Every.values, required=required, help_text=EVERY_HELP
        ),
        "starts_on": serializers.DateField(required=required, help_text=STARTS_ON_HELP),
        "active": serializers.BooleanField(required=False, help_text="Default: true."),
    }


ContestSeriesIn = inline_serializer("ContestSeriesInput", _fields(partial=False))
ContestSeriesPatch = inline_serializer("ContestSeriesPatch", _fields(partial=True))

EXAMPLE_IN = {
    "name": "Weekly posting",
    "metric": "events.post_published",
    "kind": "leaderboard",
    "participants": {"all": True},
    "prizes": [{"rank": 1, "xp": 200}],
    "every": "week",
    "starts_on": "2026-12-07",
}
EXAMPLE_OUT = {
    "id": 3,
    **EXAMPLE_IN,
    "target": None,
    "aggregate": None,
    "active": True,
    "created_at": "2026-12-04T09:00:00Z",
    "updated_at": "2026-12-04T09:00:00Z",
}


def series_body(series: ContestSeries) -> dict[str, Any]:
    return {
        "id": series.pk,
        "name": series.name,
        "metric": series.metric,
        "kind": series.kind,
        "target": series.target,
        "aggregate": series.aggregate or None,
        "participants": series.participants,
        "prizes": series.prizes,
        "every": series.every,
        "starts_on": series.starts_on,
        "active": series.active,
        "created_at": series.created_at,
        "updated_at": series.updated_at,
    }


@extend_schema_view(
    list=extend_schema(
        summary="List recurring contests",
        description="Every series, oldest first. Its seasons: `GET /api/v1/contests?series=<id>`.",
    ),
    retrieve=extend_schema(
        summary="Get a recurring contest",
        description="One series. Its seasons: `GET /api/v1/contests?series=<id>`.",
        parameters=[SERIES_ID],
    ),
    create=extend_schema(
        summary="Create a recurring contest",
        description=(
            "A contest's definition without dates, opened again every ISO week or calendar month from "
            "`starts_on` on: when a season begins, the contests tick opens its contest (named "
            "`<name> · <season>`, e.g. `Weekly posting · 2026-W50`), which then runs and ends as any other. "
            f"{WRITE_ROLES} 400 names the field, as for contests (and `starts_on`: `invalid` when it is not "
            "a season's first day, or of a season already over)."
        ),
        request=ContestSeriesIn,
        responses={201: ContestSeriesSerializer},
        examples=[
            OpenApiExample("A weekly leaderboard", value=EXAMPLE_IN, request_only=True),
            OpenApiExample("The series created", value=EXAMPLE_OUT, response_only=True, status_codes=["201"]),
        ],
    ),
    partial_update=extend_schema(
        summary="Update a recurring contest",
        description=(
            "The definition and `active` at any time: seasons opened from then on take the change, those "
            "already opened keep theirs. `every` and `starts_on` only until the first season opens (then "
            f"409 `series_started`). {WRITE_ROLES}"
        ),
        parameters=[SERIES_ID],
        request=ContestSeriesPatch,
        responses={200: ContestSeriesSerializer},
        examples=[OpenApiExample("Paused", value={"active": False}, request_only=True)],
    ),
    destroy=extend_schema(
        summary="Delete a recurring contest",
        description=(
            "No season opens any more. The contests of its seasons stay, with their `season` label and "
            f"`series` null; the current one runs to its end unless cancelled. {WRITE_ROLES}"
        ),
        parameters=[SERIES_ID],
    ),
)
@extend_schema(tags=["contests"])
class ContestSeriesViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [key_roles(write=ADMIN)]
    serializer_class = ContestSeriesSerializer
    pagination_class = PagePagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[ContestSeries]:
        return ContestSeries.objects.order_by("id")

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response([series_body(s) for s in page])

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(series_body(self.get_object()))

    def create(self, request: Request) -> Response:
        data = body_object(request.data, allowed=(*SERIES_FIELDS, *READ_ONLY_ECHO))
        series = contest_series_create(
            tenant=request.tenant,  # type: ignore[attr-defined]
            data={k: v for k, v in data.items() if k in SERIES_FIELDS},
            actor=actor_of(request),
        )
        return Response(series_body(series), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        data = body_object(request.data, allowed=(*SERIES_FIELDS, *READ_ONLY_ECHO))
        series = contest_series_update(
            tenant=request.tenant,  # type: ignore[attr-defined]
            series=self.get_object(),
            data={k: v for k, v in data.items() if k in SERIES_FIELDS},
            actor=actor_of(request),
        )
        return Response(series_body(series))

    def destroy(self, request: Request, pk: str) -> Response:
        contest_series_delete(series=self.get_object(), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
