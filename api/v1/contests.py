"""``/api/v1/contests``: time-boxed competitions between reps or teams (docs/contests.md)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.actors import actor_of
from api.pagination import PagePagination
from api.permissions import ADMIN, any_rep_or_key_roles
from api.v1.filters import IntegerFilter
from api.v1.serializers import body_object
from core.errors import NotFound, ValidationFailed
from gamification.models import Contest
from gamification.services.contest_live import standings_source
from gamification.services.contest_standings import RepRow, TeamRow
from gamification.services.contest_values import period_of
from gamification.services.contests import (
    FIELDS,
    contest_cancel,
    contest_create,
    contest_payload,
    contest_status,
    contest_update,
    contests_visible_to_rep,
    tenant_today,
)

READ_ONLY_ECHO = (
    "id",
    "status",
    "finalized_at",
    "cancelled_at",
    "series",
    "season",
    "created_at",
    "updated_at",
)
CONTEST_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The contest's id.")
METRIC_HELP = (
    "`events.<type>` (events counted per local day), `sum.<type>` (the events' `value` summed), `xp` (XP "
    "the period's events earned), `ssi.gain` or `pillar.<brand|find|engage|relationships>.gain` (the score "
    "on the last scored day of the period minus the score the day before `start_date`)."
)


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "object",
                "properties": {"all": {"type": "boolean", "enum": [True]}},
                "required": ["all"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "teams": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 1},
                        "minItems": 1,
                        "maxItems": 10000,
                    }
                },
                "required": ["teams"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "reps": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1},
                        "minItems": 2,
                        "maxItems": 10000,
                    }
                },
                "required": ["reps"],
                "additionalProperties": False,
            },
        ],
        "description": 'Who takes part: `{"all": true}` (every active rep), `{"teams": [ids]}` (the active '
        'members of these teams) or `{"reps": [external ids]}` (2 or more listed reps, while active).',
    }
)
class ParticipantsField(serializers.JSONField):
    """Validated by the service."""


# A pattern, not an enum: a nullable enum becomes a oneOf with null that example validators refuse.
@extend_schema_field({"type": "string", "pattern": "^(avg|sum)$", "nullable": True})
class AggregateField(serializers.CharField):
    """``avg``, ``sum`` or null (validated by the service)."""


class PrizeSerializer(serializers.Serializer):
    rank = serializers.IntegerField(min_value=1, max_value=10000)
    xp = serializers.IntegerField(min_value=0, max_value=100000, help_text="XP granted; 0 for none.")
    badge = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="The slug of a badge awarded too (its period: `contest-<id>`); null or absent for none.",
    )


class ContestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    metric = serializers.CharField(help_text=METRIC_HELP)
    kind = serializers.ChoiceField(choices=Contest.Kind.values)
    target = serializers.FloatField(allow_null=True, help_text="Races: the value to reach; null otherwise.")
    aggregate = AggregateField(allow_null=True, help_text="Teams contests: avg or sum; null otherwise.")
    start_date = serializers.DateField(help_text="The first local day counted (the tenant's time zone).")
    end_date = serializers.DateField(help_text="The last local day counted.")
    participants = ParticipantsField()
    prizes = PrizeSerializer(many=True)
    status = serializers.ChoiceField(
        choices=Contest.Status.values,
        help_text="scheduled before start_date; running from then until it is finalized after end_date; "
        "ended once finalized; cancelled.",
    )
    finalized_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    series = serializers.IntegerField(
        allow_null=True,
        help_text="A season of a recurring contest: the series' id (null for a contest made by hand, or once "
        "its series is deleted).",
    )
    season = serializers.CharField(
        allow_null=True,
        help_text="A season of a recurring contest: its label, `2026-W49` (an ISO week) or `2026-12` (a "
        "month); null for a contest made by hand.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _fields(*, partial: bool) -> dict[str, serializers.Field]:
    required = not partial
    return {
        "name": serializers.CharField(max_length=120, required=required),
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
        "start_date": serializers.DateField(required=required),
        "end_date": serializers.DateField(
            required=required, help_text="On or after start_date, at most 366 days after it."
        ),
        "participants": ParticipantsField(required=required),
        "prizes": PrizeSerializer(many=True, required=False, help_text="Default: none."),
    }


ContestIn = inline_serializer("ContestInput", _fields(partial=False))
ContestPatch = inline_serializer("ContestPatch", _fields(partial=True))

EXAMPLE_IN = {
    "name": "March posting race",
    "metric": "events.post_published",
    "kind": "race",
    "target": 20,
    "start_date": "2026-03-01",
    "end_date": "2026-03-31",
    "participants": {"all": True},
    "prizes": [{"rank": 1, "xp": 500, "badge": "first-post"}, {"rank": 2, "xp": 200}],
}
EXAMPLE_OUT = {
    "id": 7,
    **EXAMPLE_IN,
    "aggregate": None,
    "target": 20.0,
    "status": "scheduled",
    "finalized_at": None,
    "cancelled_at": None,
    "series": None,
    "season": None,
    "created_at": "2026-02-20T09:00:00Z",
    "updated_at": "2026-02-20T09:00:00Z",
}


def contest_body(contest: Contest, today: Any) -> dict[str, Any]:
    """A contest as the API answers it: its definition as webhooks carry it
    (``contest_payload``), its status as of ``today``, and its timestamps."""
    return {
        **contest_payload(contest),
        "status": contest_status(contest, today),
        "finalized_at": contest.finalized_at,
        "cancelled_at": contest.cancelled_at,
        "series": contest.series_id,
        "season": contest.season or None,
        "created_at": contest.created_at,
        "updated_at": contest.updated_at,
    }


class StandingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(
        help_text="Competition ranking on the value rounded to 2 decimals (1, 1, 3); in a race, those who "
        "reached the target first, by `reached_at`."
    )
    rep = serializers.CharField(required=False, help_text="`by=rep`: the rep's external_id.")
    team = serializers.IntegerField(required=False, help_text="`by=team`: the team's id.")
    name = serializers.CharField(help_text="The rep's or the team's name.")
    value = serializers.FloatField(help_text="Rounded to 2 decimals.")
    reached_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Races, `by=rep`: when the rep reached the target; null while not reached.",
    )
    members = serializers.IntegerField(required=False, help_text="`by=team`: its participant members.")


class StandingsSerializer(serializers.Serializer):
    contest = serializers.IntegerField(help_text="The contest's id.")
    kind = serializers.ChoiceField(choices=Contest.Kind.values)
    metric = serializers.CharField()
    status = serializers.ChoiceField(choices=Contest.Status.values)
    by = serializers.ChoiceField(choices=["rep", "team"])
    start = serializers.DateField(help_text="The first day counted.")
    end = serializers.DateField(help_text="The last day counted so far: min(end_date, today).")
    measured_at = serializers.DateTimeField(
        help_text="When these standings were measured. A running contest's are stored and measured again "
        "once they are older than the platform's limit (a minute by default), so the latest events may not "
        "be counted yet; an ended "
        "contest's are the standings frozen when it was finalized."
    )
    count = serializers.IntegerField(help_text="Rows ranked.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = StandingRowSerializer(many=True)
    me = StandingRowSerializer(
        allow_null=True,
        help_text="Rep tokens: the rep's own row (`by=team`: its team's row); null when it is not ranked. "
        "Keys: always null.",
    )


def rep_row(row: RepRow, race: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"rank": row.rank, "rep": row.external_id, "name": row.name, "value": row.value}
    if race:
        body["reached_at"] = row.reached_at
    return body


def team_row(row: TeamRow) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "team": row.team_id,
        "name": row.name,
        "value": row.value,
        "members": row.members,
    }


WRITE_ROLES = "Admin keys (managers too, once members have API access)."


class ContestFilter(django_filters.FilterSet):
    series = IntegerFilter(
        field_name="series_id", help_text="The seasons of this recurring contest (its id)."
    )

    class Meta:
        model = Contest
        fields = ["series"]


@extend_schema_view(
    list=extend_schema(
        summary="List contests",
        description="Every contest, oldest first, with its status as of now; `series` keeps the seasons of "
        "one recurring contest. A rep token sees only the contests it takes part in.",
    ),
    retrieve=extend_schema(
        summary="Get a contest",
        description="A rep token may read only a contest it takes part in (another is a 404).",
        parameters=[CONTEST_ID],
    ),
    create=extend_schema(
        summary="Create a contest",
        description=(
            "A contest on a metric over local dates, for everyone, some teams or listed reps, with prizes "
            "per rank. `start_date` may lie in the past: that period's events count, and a contest whose "
            f"`end_date` is already over is finalized at the next tick. {WRITE_ROLES} 400 names the field "
            "(`unknown_metric`, `unknown_team`, `unknown_rep`, `unknown_badge`, `required`, `invalid`)."
        ),
        request=ContestIn,
        responses={201: ContestSerializer},
        examples=[
            OpenApiExample("A race", value=EXAMPLE_IN, request_only=True),
            OpenApiExample("The race created", value=EXAMPLE_OUT, response_only=True, status_codes=["201"]),
        ],
    ),
    partial_update=extend_schema(
        summary="Update a contest",
        description=(
            "Any field while the contest is `scheduled`; only `name` and `prizes` while it is `running` "
            "(409 `contest_running` for another field); nothing once it ended or was cancelled (409 "
            f"`contest_ended`, `contest_cancelled`). {WRITE_ROLES}"
        ),
        parameters=[CONTEST_ID],
        request=ContestPatch,
        responses={200: ContestSerializer},
        examples=[OpenApiExample("A new name", value={"name": "Spring posting race"}, request_only=True)],
    ),
)
@extend_schema(tags=["contests"])
class ContestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [any_rep_or_key_roles(write=ADMIN)]
    serializer_class = ContestSerializer
    pagination_class = PagePagination
    filterset_class = ContestFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Contest]:
        queryset = Contest.objects.order_by("id")
        principal = self.request.user
        if getattr(principal, "kind", None) == "rep":
            queryset = contests_visible_to_rep(queryset, principal.rep_id)  # type: ignore[union-attr]
        return queryset

    def _today(self) -> Any:
        return tenant_today(self.request.tenant)  # type: ignore[attr-defined]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        today = self._today()
        return self.get_paginated_response([contest_body(c, today) for c in page])

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(contest_body(self.get_object(), self._today()))

    def create(self, request: Request) -> Response:
        data = body_object(request.data, allowed=(*FIELDS, *READ_ONLY_ECHO))
        contest = contest_create(
            tenant=request.tenant,  # type: ignore[attr-defined]
            data={k: v for k, v in data.items() if k in FIELDS},
            actor=actor_of(request),
        )
        return Response(contest_body(contest, self._today()), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        data = body_object(request.data, allowed=(*FIELDS, *READ_ONLY_ECHO))
        contest = contest_update(
            tenant=request.tenant,  # type: ignore[attr-defined]
            contest=self.get_object(),
            data={k: v for k, v in data.items() if k in FIELDS},
            actor=actor_of(request),
        )
        return Response(contest_body(contest, self._today()))

    @extend_schema(
        summary="A contest's standings",
        description=(
            "Participants ranked by their value over `[start_date, min(end_date, today)]`, paged like the "
            "leaderboards. In a race, those who reached the target come first by `reached_at`, the others "
            "after them by value. Teams contests: `by=team` ranks the teams by the `avg` or `sum` of their "
            "participant members' values (0 without any); `by=rep` (the default) ranks the reps. Once the "
            "contest ended, the standings frozen at its end. `by=team` on another kind is a 404 "
            "`no_team_standings`. A rep token reads only a contest it takes part in, with its own row as "
            "`me`."
        ),
        parameters=[
            CONTEST_ID,
            OpenApiParameter(
                "by",
                OpenApiTypes.STR,
                enum=["rep", "team"],
                description="Default `rep`; `team`: teams contests.",
            ),
            OpenApiParameter("page", {"type": "integer", "minimum": 1}, description="Page number (from 1)."),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1},
                description="Rows per page: default 50; more than 500 is capped to 500.",
            ),
        ],
        responses={200: StandingsSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def standings(self, request: Request, pk: str) -> Response:
        contest = self.get_object()
        by = request.query_params.get("by") or "rep"
        if by not in ("rep", "team"):
            raise ValidationFailed("`rep` or `team`.", code="invalid_choice", attr="by")
        if by == "team" and contest.kind != Contest.Kind.TEAMS:
            raise NotFound("Only a teams contest has team standings.", code="no_team_standings", attr="by")
        today = self._today()
        source = standings_source(tenant=request.tenant, contest=contest, today=today)  # type: ignore[attr-defined]
        race = contest.kind == Contest.Kind.RACE
        me: dict[str, Any] | None = None
        principal = request.user
        if getattr(principal, "kind", None) == "rep":
            mine = source.rep(principal.rep_id)  # type: ignore[union-attr]
            if by == "rep" and mine is not None:
                me = rep_row(mine, race)
            elif by == "team" and mine is not None:
                team = source.team(mine.team_id)
                me = team_row(team) if team is not None else None
        paginator = PagePagination()
        if by == "team":
            teams = paginator.paginate_queryset(source.teams(), request, view=self) or []
            response = paginator.get_paginated_response([team_row(t) for t in teams])
        else:
            reps = paginator.paginate_queryset(source.reps(), request, view=self) or []
            response = paginator.get_paginated_response([rep_row(r, race) for r in reps])
        start, end = period_of(contest, today)
        response.data = {
            "contest": contest.pk,
            "kind": contest.kind,
            "metric": contest.metric,
            "status": contest_status(contest, today),
            "by": by,
            "start": start,
            "end": end,
            "measured_at": source.measured_at or contest.finalized_at,
            **response.data,
            "me": me,
        }
        return response

    @extend_schema(
        summary="Cancel a contest",
        description=(
            "A cancelled contest is never finalized and grants nothing. Cancelling it again changes nothing; "
            f"one that has ended is a 409 `contest_ended`. {WRITE_ROLES}"
        ),
        parameters=[CONTEST_ID],
        request=OpenApiTypes.OBJECT,  # nothing, or {}: the hook says no fields (api/schema/hooks.py)
        responses={200: ContestSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        body_object(request.data or {}, allowed=())
        contest = contest_cancel(contest=self.get_object(), actor=actor_of(request))
        return Response(contest_body(contest, self._today()))
