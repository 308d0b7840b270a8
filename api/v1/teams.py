"""``/api/v1/teams``: teams of reps."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import ADMIN_OR_INTEGRATION, key_roles
from api.v1.serializers import StrictInputSerializer
from scoring.models import Team
from scoring.services.people import team_create, team_delete, team_update


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "description", "created_at", "updated_at"]


class TeamInSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    ignored_fields = ("id", "created_at", "updated_at")


class TeamFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Teams whose name contains this.")

    class Meta:
        model = Team
        fields = ["name"]


@extend_schema_view(
    list=extend_schema(
        summary="List teams", description="The tenant's teams with their ids. Any tenant API key."
    ),
    retrieve=extend_schema(summary="Get a team", description="One team by its id. Any tenant API key."),
    create=extend_schema(
        summary="Create a team",
        description="A team, by name (unique in the tenant). Admin and integration keys.",
        request=TeamInSerializer,
        responses={201: TeamSerializer},
    ),
    update=extend_schema(
        summary="Replace a team",
        description="Replaces the team's name. Admin and integration keys.",
        request=TeamInSerializer,
        responses={200: TeamSerializer},
    ),
    partial_update=extend_schema(
        summary="Update a team",
        description="Changes the fields sent. Admin and integration keys.",
        request=TeamInSerializer(partial=True),
        responses={200: TeamSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a team (its reps stay, without a team)",
        description=(
            "Removes the team; its reps stay, with no team, and its team goals go. Admin and integration "
            "keys."
        ),
    ),
)
@extend_schema(tags=["teams"])
class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [key_roles(write=ADMIN_OR_INTEGRATION)]
    serializer_class = TeamSerializer
    queryset = Team.objects.order_by("id")
    filterset_class = TeamFilter

    def create(self, request: Request) -> Response:
        data = TeamInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = team_create(**data.validated_data)
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        team = self.get_object()
        data = TeamInSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if not partial:  # PUT replaces: what is left out goes back to its default
            changes.setdefault("description", "")
        return Response(TeamSerializer(team_update(team=team, data=changes)).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        team_delete(team=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
