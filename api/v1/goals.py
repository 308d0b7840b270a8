"""``/api/v1/goals``: rep and team goals, with progress and status in every answer."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.actors import actor_of
from api.pagination import PagePagination
from api.permissions import ADMIN_OR_INTEGRATION, any_rep_or_key_roles
from api.v1.filters import IntegerFilter
from api.v1.serializers import body_object
from gamification.models import Goal
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
    aggregate = serializers.CharField(
        allow_blank=True, help_text="Team goals: avg, sum or min over active reps."
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


GoalIn = inline_serializer(
    "GoalInput",
    {
        "title": serializers.CharField(max_length=200),
        "rep": serializers.CharField(required=False, help_text="Exactly one of rep or team."),
        "team": serializers.IntegerField(required=False),
        "metric": serializers.CharField(),
        "target": PositiveNumberField(),
        "start_date": serializers.DateField(),
        "end_date": serializers.DateField(),
        "aggregate": serializers.ChoiceField(choices=["avg", "sum", "min"], required=False),
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
    list=extend_schema(summary="List goals, with progress and status"),
    retrieve=extend_schema(summary="Get a goal"),
    create=extend_schema(summary="Create a goal", request=GoalIn, responses={201: GoalSerializer}),
    partial_update=extend_schema(summary="Update a goal", request=GoalIn, responses={200: GoalSerializer}),
    destroy=extend_schema(summary="Delete a goal"),
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
        queryset = Goal.objects.select_related("rep", "team").order_by("id")
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
