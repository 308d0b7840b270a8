"""``/api/v1/badges`` (definitions), ``/api/v1/awards`` (feed), ``/api/v1/reps/{id}/badges``."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.actors import actor_of
from api.pagination import FeedPagination
from api.permissions import ADMIN, key_roles, own_rep_or_key_roles
from api.v1.filters import IsoDateTimeFilter
from api.v1.serializers import body_object
from core.errors import NotFound
from gamification.models import Badge, BadgeAward
from gamification.selectors import awards_feed
from gamification.services.badges import badge_create, badge_delete, badge_update
from scoring.models import Rep


class BadgeSerializer(serializers.ModelSerializer):
    # As it was given (http(s)://..., not checked further), or empty: not promised to be a valid URI.
    image_url = serializers.CharField(allow_blank=True, help_text="An http(s) URL, or empty.")
    criteria = serializers.JSONField(
        help_text='{"all": [...]}, {"any": [...]} or {"metric", "op", "value", "window_days"?}.'
    )

    class Meta:
        model = Badge
        fields = [
            "slug", "name", "description", "image_url", "criteria", "repeat", "xp_reward", "active",
            "ingest_time", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["ingest_time", "created_at", "updated_at"]


BadgeIn = inline_serializer(
    "BadgeInput",
    {
        "slug": serializers.RegexField(r"^[a-z0-9][a-z0-9-]*$", max_length=64),
        "name": serializers.CharField(max_length=200),
        "description": serializers.CharField(required=False, allow_blank=True),
        "image_url": serializers.RegexField(
            r"^$|^https?://",
            max_length=500,
            required=False,
            allow_blank=True,
            help_text="An http(s) URL, or empty.",
        ),
        "criteria": serializers.JSONField(),
        "repeat": serializers.ChoiceField(choices=Badge.Repeat.values, required=False),
        "xp_reward": serializers.IntegerField(min_value=0, max_value=100_000, required=False),
        "active": serializers.BooleanField(required=False),
    },
)


class AwardSerializer(serializers.ModelSerializer):
    rep = serializers.CharField(source="rep.external_id")
    badge = serializers.CharField(source="badge.slug")
    name = serializers.CharField(source="badge.name")
    image_url = serializers.CharField(source="badge.image_url")

    class Meta:
        model = BadgeAward
        fields = ["id", "rep", "badge", "name", "image_url", "period", "xp_reward", "awarded_at"]


class AwardFilter(django_filters.FilterSet):
    rep = django_filters.CharFilter(field_name="rep__external_id", help_text="A rep's external_id.")
    badge = django_filters.CharFilter(field_name="badge__slug", help_text="A badge slug.")
    since = IsoDateTimeFilter(field_name="awarded_at", lookup_expr="gte")

    class Meta:
        model = BadgeAward
        fields = ["rep", "badge", "since"]


BADGE_WRITES = ("slug", "name", "description", "image_url", "criteria", "repeat", "xp_reward", "active")
READ_ONLY_ECHO = ("ingest_time", "created_at", "updated_at")


@extend_schema_view(
    list=extend_schema(
        summary="List badge definitions",
        description=(
            "Every badge the tenant defined, with its criteria, repeat rule and XP reward. Any tenant API "
            "key."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a badge definition", description="One badge by its slug. Any tenant API key."
    ),
    create=extend_schema(
        summary="Create a badge",
        description="An invalid criteria tree is a 400 whose `attr` names the offending path "
        "(`criteria.all.1.op`).",
        request=BadgeIn,
        responses={201: BadgeSerializer},
    ),
    update=extend_schema(
        summary="Replace a badge",
        description=(
            "Replaces every field of the badge but its slug. Awards already given stay. Admin keys only."
        ),
        request=BadgeIn,
        responses={200: BadgeSerializer},
    ),
    partial_update=extend_schema(
        summary="Update a badge",
        description=(
            "Changes the fields sent; the slug never changes. Awards already given stay. Admin keys only."
        ),
        request=BadgeIn,
        responses={200: BadgeSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a badge and its awards",
        description=(
            "Removes the badge definition and every award of it (the XP it granted stays earned). Admin keys "
            "only."
        ),
    ),
)
@extend_schema(tags=["badges"])
class BadgeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [key_roles(write=ADMIN)]
    serializer_class = BadgeSerializer
    queryset = Badge.objects.order_by("id")
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]{1,64}"

    def create(self, request: Request) -> Response:
        data = body_object(request.data, allowed=(*BADGE_WRITES, *READ_ONLY_ECHO))
        badge = badge_create(
            data={k: v for k, v in data.items() if k in BADGE_WRITES}, actor=actor_of(request)
        )
        return Response(BadgeSerializer(badge).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, slug: str, partial: bool = False) -> Response:
        data = body_object(request.data, allowed=(*BADGE_WRITES, *READ_ONLY_ECHO))
        badge = badge_update(
            badge=self.get_object(),
            data={k: v for k, v in data.items() if k in BADGE_WRITES},
            partial=partial,
            actor=actor_of(request),
        )
        return Response(BadgeSerializer(badge).data)

    def partial_update(self, request: Request, slug: str) -> Response:
        return self.update(request, slug, partial=True)

    def destroy(self, request: Request, slug: str) -> Response:
        badge_delete(badge=self.get_object(), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="Badge awards, newest first (cursor pagination)",
        description=(
            "The feed of badges awarded to the tenant's reps, newest first, filterable by rep and badge. Any "
            "tenant API key."
        ),
    )
)
@extend_schema(tags=["badges"])
class AwardViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [key_roles(write=ADMIN)]
    serializer_class = AwardSerializer
    pagination_class = FeedPagination
    filterset_class = AwardFilter

    def get_queryset(self) -> QuerySet[BadgeAward]:
        return awards_feed()


class RepBadgesView(APIView):
    permission_classes = [own_rep_or_key_roles(write=ADMIN)]

    @extend_schema(
        tags=["badges"],
        summary="A rep's badges (awards, newest first)",
        description=(
            "Every award of the rep, newest first, with the badge's name and image. A tenant API key, or that"
            " rep's own token."
        ),
        responses={200: AwardSerializer(many=True)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        rep = Rep.objects.filter(external_id=external_id).first()
        if rep is None:
            raise NotFound("No rep with this external_id.")
        awards = (
            BadgeAward.objects.filter(rep=rep).select_related("rep", "badge").order_by("-awarded_at", "-id")
        )
        return Response(AwardSerializer(awards[:1000], many=True).data)
