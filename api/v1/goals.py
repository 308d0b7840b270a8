"""``/api/v1/goals``: rep and team goals, with progress and status in every answer."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import (
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.actors import actor_of
from api.pagination import PagePagination
from api.permissions import ADMIN_OR_INTEGRATION, any_rep_or_key_roles
from api.v1.filters import IntegerFilter
from api.v1.serializers import body_object
from gamification.models import Goal
from gamification.selectors import goals_list
from gamification.services.goals import (
    FIELDS,
    GoalView,
    goal_create,
    goal_delete,
    goal_payload,
    goal_update,
    goals_view,
)
from scoring.models import Rep

READ_ONLY_ECHO = ("id", "status", "progress", "current", "created_at", "updated_at", "status_changed_at")


class GoalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    rep = serializers.CharField(allow_null=True, help_text="The rep's external_id (rep goals).")
    team = serializers.IntegerField(allow_null=True, help_text="The team id (team goals).")
    metric = serializers.CharField(
        help_text="A metric of the metric language, e.g. `ssi`, `events.post_published`."
    )
    target = serializers.FloatField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    aggregate = serializers.ChoiceField(
        choices=Goal.Aggregate.values,
        allow_blank=True,
        help_text="Team goals: avg, sum or min over active reps; empty for rep goals.",
    )
    status = serializers.ChoiceField(choices=Goal.Status.values)
    current = serializers.FloatField(allow_null=True, help_text="The metric's value now (or at end_date).")
    progress = serializers.FloatField(help_text="min(1, current / target).")
    status_changed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


@extend_schema_field({"type": "number", "minimum": 0, "exclusiveMinimum": True})
class PositiveNumberField(serializers.FloatField):
    """A number greater than 0 (validated by the service)."""


def _goal_fields(*, partial: bool) -> dict[str, serializers.Field]:
    """What every goal has; all optional in a PATCH."""
    required = not partial
    return {
        "title": serializers.CharField(max_length=200, required=required),
        "metric": serializers.CharField(required=required),
        "target": PositiveNumberField(required=required),
        "start_date": serializers.DateField(required=required),
        "end_date": serializers.DateField(required=required),
    }


AGGREGATE_HELP = "How the values of the team's active reps combine: `avg`, `sum` or `min`."
# Exactly one of rep or team: two shapes, so that typed clients cannot send both or neither.
RepGoalIn = inline_serializer(
    "RepGoalInput",
    {"rep": serializers.CharField(help_text="The rep's external_id."), **_goal_fields(partial=False)},
)
TeamGoalIn = inline_serializer(
    "TeamGoalInput",
    {
        "team": serializers.IntegerField(help_text="The team's id."),
        **_goal_fields(partial=False),
        "aggregate": serializers.ChoiceField(choices=Goal.Aggregate.values, help_text=AGGREGATE_HELP),
    },
)
GoalIn = PolymorphicProxySerializer(
    component_name="GoalInput",
    serializers=[RepGoalIn, TeamGoalIn],
    resource_type_field_name=None,
)
# A goal's rep or team never changes.
GoalPatch = inline_serializer(
    "GoalPatch",
    {
        **_goal_fields(partial=True),
        "aggregate": serializers.ChoiceField(
            choices=Goal.Aggregate.values, required=False, help_text=f"Team goals only. {AGGREGATE_HELP}"
        ),
    },
)


def goal_body(view: GoalView) -> dict[str, Any]:
    """The webhook payload of the goal (same fields, same meaning), and what only the API shows."""
    goal = view.goal
    current = None if view.current is None else round(view.current, 2)
    return {
        **goal_payload(goal, current),
        "start_date": goal.start_date,
        "end_date": goal.end_date,
        "aggregate": goal.aggregate,
        "progress": round(view.progress, 4),
        "status_changed_at": goal.status_changed_at,
        "created_at": goal.created_at,
        "updated_at": goal.updated_at,
    }


class GoalFilter(django_filters.FilterSet):
    rep = django_filters.CharFilter(field_name="rep__external_id", help_text="Goals of this rep.")
    team = IntegerFilter(field_name="team_id", help_text="Goals of this team (its id).")
    status = django_filters.ChoiceFilter(choices=Goal.Status.choices)

    class Meta:
        model = Goal
        fields = ["rep", "team", "status"]


@extend_schema_view(
    list=extend_schema(
        summary="List goals, with progress and status",
        description=(
            "Rep and team goals with their current value, progress (0 to 1) and status, filterable by rep, "
            "team and status. A rep token sees its own goals and its team's."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a goal",
        description="One goal with its progress and status. A rep token sees its own goals and its team's.",
    ),
    create=extend_schema(
        summary="Create a goal",
        description=(
            "A goal for one rep (`rep`) or one team (`team`, with an `aggregate`), on a metric, with a target"
            " over a date range. Admin and integration keys."
        ),
        request=GoalIn,
        responses={201: GoalSerializer},
    ),
    partial_update=extend_schema(
        summary="Update a goal",
        description=(
            "Changes the title, metric, target, dates or aggregate; a goal's rep or team never changes. Admin"
            " and integration keys."
        ),
        request=GoalPatch,
        responses={200: GoalSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a goal", description="Removes the goal. Admin and integration keys."
    ),
)
@extend_schema(tags=["goals"])
class GoalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    # Keys by role; a rep token may read (only) its own goals and its team's.
    permission_classes = [any_rep_or_key_roles(write=ADMIN_OR_INTEGRATION)]
    serializer_class = GoalSerializer
    pagination_class = PagePagination
    filterset_class = GoalFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Goal]:
        queryset = goals_list()
        principal = self.request.user
        if getattr(principal, "kind", None) == "rep":
            rep = Rep.objects.filter(pk=principal.rep_id).values_list("id", "team_id").first()  # type: ignore[union-attr]
            team_id = rep[1] if rep else None
            queryset = queryset.filter(Q(rep_id=principal.rep_id) | Q(team_id=team_id, team_id__isnull=False))  # type: ignore[union-attr]
        return queryset

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        views = goals_view(tenant=request.tenant, goals=page)  # type: ignore[attr-defined]
        return self.get_paginated_response([goal_body(v) for v in views])

    def retrieve(self, request: Request, pk: str) -> Response:
        (view,) = goals_view(tenant=request.tenant, goals=[self.get_object()])  # type: ignore[attr-defined]
        return Response(goal_body(view))

    def create(self, request: Request) -> Response:
        data = body_object(request.data, allowed=(*FIELDS, *READ_ONLY_ECHO))
        goal = goal_create(data={k: v for k, v in data.items() if k in FIELDS}, actor=actor_of(request))
        (view,) = goals_view(tenant=request.tenant, goals=[goal])  # type: ignore[attr-defined]
        return Response(goal_body(view), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        data = body_object(request.data, allowed=(*FIELDS, *READ_ONLY_ECHO))
        goal = goal_update(
            goal=self.get_object(),
            data={k: v for k, v in data.items() if k in FIELDS},
            actor=actor_of(request),
        )
        (view,) = goals_view(tenant=request.tenant, goals=[goal])  # type: ignore[attr-defined]
        return Response(goal_body(view))

    def destroy(self, request: Request, pk: str) -> Response:
        goal_delete(goal=self.get_object(), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
