"""``/api/v1/reps``: sales reps, keyed by the client's ``external_id``; ``GET`` of one is its card."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from access.models import Role
from api.actors import actor_of
from api.permissions import ADMIN_OR_INTEGRATION, own_rep_or_key_roles
from api.v1.filters import IntegerFilter, StrictBooleanFilter
from api.v1.scores import RepSsiSerializer, with_industry
from api.v1.serializers import ExternalIdField, StrictInputSerializer
from core.errors import ValidationFailed
from gamification.rules.levels import level_for
from gamification.selectors import RepCard, rep_card_get
from gamification.services.xp import thresholds_of
from provisioning.erasure import rep_erase, rep_to_erase
from scoring.models import Rep, Team
from scoring.services.people import rep_create, rep_delete, rep_update
from tenants.models import Tenant


class RepSerializer(serializers.ModelSerializer):
    team: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Team id, or null."
    )

    class Meta:
        model = Rep
        fields = ["external_id", "name", "email", "team", "active", "created_at", "updated_at"]


class StreakSerializer(serializers.Serializer):
    current = serializers.IntegerField(
        help_text="Consecutive active counted days ending today (or at the last counted day before today)."
    )
    longest = serializers.IntegerField(help_text="The longest such run ever.")
    last_active_day = serializers.DateField(allow_null=True, help_text="The last local day with an event.")
    active_today = serializers.BooleanField(help_text="Whether the rep has an event today (local day).")


class RepCardSerializer(RepSerializer):
    xp = serializers.IntegerField(help_text="Total XP.")
    level = serializers.IntegerField(help_text="The number of the tenant's level thresholds <= xp.")
    streak = StreakSerializer(help_text="Under the tenant's streak_mode, as of its local today.")
    ssi = RepSsiSerializer(
        allow_null=True,
        help_text="The latest snapshot, as `/ssi` shows it (its industry place included), or null when "
        "never scored.",
    )
    badges = serializers.IntegerField(help_text="Badges awarded (every award counts).")

    class Meta(RepSerializer.Meta):
        fields = [*RepSerializer.Meta.fields, "xp", "level", "streak", "ssi", "badges"]


_DATETIME = serializers.DateTimeField()


def rep_body(rep: Rep) -> dict[str, Any]:
    """``RepSerializer(rep).data``, without building a ModelSerializer's fields on every call:
    the card is a hot read, and building those fields is a real share of its time.
    tests/api/test_reps.py holds them equal."""
    return {
        "external_id": rep.external_id,
        "name": rep.name,
        "email": rep.email,
        "team": rep.team_id,
        "active": rep.active,
        "created_at": _DATETIME.to_representation(rep.created_at),
        "updated_at": _DATETIME.to_representation(rep.updated_at),
    }


def rep_card(card: RepCard, tenant: Tenant) -> dict[str, Any]:
    """The rep's card (docs/api.md#the-rep-card): the rep, its XP, level, streak, latest SSI and badges."""
    rep, streak = card.rep, card.streak
    return {
        **rep_body(rep),
        "xp": rep.xp,
        "level": level_for(rep.xp, thresholds_of(tenant)),
        "streak": {
            "current": streak.current,
            "longest": streak.longest,
            "last_active_day": streak.last_active_day,
            "active_today": streak.active_today,
        },
        "ssi": None if card.ssi is None else with_industry(card.ssi, tenant),
        "badges": card.badges,
    }


class RepInSerializer(StrictInputSerializer):
    external_id = ExternalIdField(max_length=128)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        pk_field=serializers.IntegerField(),
        help_text="Team id, or null.",
    )
    active = serializers.BooleanField(required=False, default=True)
    # The card's read-only fields too: a client may GET the card, edit it and PUT it back.
    ignored_fields = ("created_at", "updated_at", "xp", "level", "streak", "ssi", "badges")


class RepUpdateInSerializer(RepInSerializer):
    external_id = ExternalIdField(max_length=128, required=False, help_text="Cannot change.")
    active = serializers.BooleanField(required=False)


REP_DEFAULTS = {"name": "", "email": "", "team": None, "active": True}


class RepFilter(django_filters.FilterSet):
    team = IntegerFilter(field_name="team_id", help_text="Reps of this team id.")
    active = StrictBooleanFilter(help_text="Only active (true) or inactive (false) reps.")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Matches external_id, name or email."
    )

    class Meta:
        model = Rep
        fields = ["team", "active"]

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(
            Q(external_id__icontains=value) | Q(name__icontains=value) | Q(email__icontains=value)
        )


@extend_schema_view(
    list=extend_schema(
        summary="List reps",
        description=(
            "The tenant's reps, filterable by team and active, with their team and contact data. Any tenant "
            "API key."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a rep's card",
        description=(
            "The rep with its XP, level, streak, latest SSI snapshot (or null) and number of badges. "
            "A rep token may read its own rep's card (and no other)."
        ),
        responses={200: RepCardSerializer},
    ),
    create=extend_schema(
        summary="Create a rep",
        description=(
            "A rep keyed by your own id for it (`external_id`), optionally in a team. Admin and integration "
            "keys."
        ),
        request=RepInSerializer,
        responses={201: RepSerializer},
    ),
    update=extend_schema(
        summary="Replace a rep",
        description=(
            "Replaces the rep's name, email, team and active flag; the `external_id` never changes. Admin and"
            " integration keys."
        ),
        request=RepUpdateInSerializer,
        responses={200: RepSerializer},
    ),
    partial_update=extend_schema(
        summary="Update a rep",
        description="Changes the fields sent; the `external_id` never changes. Admin and integration keys.",
        request=RepUpdateInSerializer(partial=True),
        responses={200: RepSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a rep, or erase its personal data",
        description=(
            "Without `erase` (or `erase=false`): deletes the rep and all its activity and scores; the "
            "company's and teams' past days are recomputed without it. To keep history, PATCH `active` to "
            "false. Admin and integration keys.\n\n"
            "With `erase=true` (admin keys only): erases the rep's personal data and keeps its scores "
            "counted. The rep stays, inactive, without name, email or team, under an opaque external_id "
            "(`erased-…`); its events lose their metadata and get opaque ids; its rep tokens are revoked and "
            "its console sessions end; other records naming it (audit log, contests, webhook events) name "
            "the opaque id instead. Snapshots, XP, awards and the company's and teams' stored days stay as "
            "they were. Asking again, by either id, answers 204 and changes nothing. Recorded in the audit "
            "log (action `erase`, target `rep`) without any personal data (docs/security.md)."
        ),
        parameters=[
            OpenApiParameter(
                "erase",
                {"type": "string", "enum": ["true", "false"]},
                description="`true`: erase the rep's personal data instead of deleting it.",
            )
        ],
        responses={204: None},
    ),
)
@extend_schema(tags=["reps"])
class RepViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    # Rep tokens: GET of their own rep only (the list has no external_id: 403).
    permission_classes = [own_rep_or_key_roles(write=ADMIN_OR_INTEGRATION)]
    serializer_class = RepSerializer
    queryset = Rep.objects.order_by("id")
    lookup_field = "external_id"
    # The same characters external_id allows: anything else is a 404 before any query.
    lookup_value_regex = r"[^/\s\x00-\x1f\x7f?#%\\]{1,128}"
    filterset_class = RepFilter
    # A bad `erase` on DELETE (and a bad filter on a retrieve) is a 400.
    extra_error_statuses = ["400"]

    def retrieve(self, request: Request, external_id: str) -> Response:
        tenant = request.tenant  # type: ignore[attr-defined]
        if request.query_params:
            # The list's filters apply to a retrieve too (get_object filters the queryset):
            # ?active=false on an active rep is a 404, a bad value a 400. Rare: the generic path.
            self.get_object()
        card = rep_card_get(tenant=tenant, external_id=external_id)
        if card is None:
            raise Http404  # as get_object says it
        return Response(rep_card(card, tenant))

    def create(self, request: Request) -> Response:
        data = RepInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rep = rep_create(**data.validated_data)
        return Response(RepSerializer(rep).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, external_id: str, partial: bool = False) -> Response:
        rep = self.get_object()
        data = RepUpdateInSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if not partial:  # PUT replaces: what is left out goes back to its default
            changes = {**REP_DEFAULTS, **changes}
        return Response(RepSerializer(rep_update(rep=rep, data=changes)).data)

    def partial_update(self, request: Request, external_id: str) -> Response:
        return self.update(request, external_id, partial=True)

    def destroy(self, request: Request, external_id: str) -> Response:
        if not _erase_asked(request):
            rep_delete(rep=self.get_object())
            return Response(status=status.HTTP_204_NO_CONTENT)
        if getattr(request.user, "role", None) != Role.ADMIN:
            raise PermissionDenied("Only an admin key may erase a rep.")
        rep = rep_to_erase(external_id)
        if rep is None:
            raise Http404
        rep_erase(rep=rep, actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _erase_asked(request: Request) -> bool:
    value = request.query_params.get("erase")
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise ValidationFailed("Either true or false.", code="invalid", attr="erase")
