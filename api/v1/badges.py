"""``/api/v1/badges`` (definitions), ``/api/v1/awards`` (feed), ``/api/v1/reps/{id}/badges``."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.actors import actor_of
from api.pagination import FeedPagination
from api.permissions import ADMIN, key_roles, own_rep_or_key_roles
from api.v1.filters import IsoDateTimeFilter
from api.v1.scores import JobRef
from api.v1.serializers import body_object
from core.errors import NotFound, ValidationFailed
from gamification.models import Badge, BadgeAward
from gamification.selectors import award_feed
from gamification.services.badge_past import badge_create_awarding_past, badge_preview
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


def _badge_fields(*, partial: bool) -> dict[str, serializers.Field]:
    return {
        "slug": serializers.RegexField(r"^[a-z0-9][a-z0-9-]*$", max_length=64, required=not partial),
        "name": serializers.CharField(max_length=200, required=not partial),
        "description": serializers.CharField(required=False, allow_blank=True),
        "image_url": serializers.RegexField(
            r"^$|^https?://[^\x00]*$",  # no NUL: stated in the schema, where fuzzing reads it
            max_length=500,
            required=False,
            allow_blank=True,
            help_text="An http(s) URL, or empty.",
        ),
        "criteria": serializers.JSONField(required=not partial),
        "repeat": serializers.ChoiceField(choices=Badge.Repeat.values, required=False),
        "xp_reward": serializers.IntegerField(min_value=0, max_value=100_000, required=False),
        "active": serializers.BooleanField(required=False),
    }


BadgeIn = inline_serializer("BadgeInput", _badge_fields(partial=False))
AWARD_PAST_HELP = (
    "Also award the badge for every past period with data (`once`: as of today; `daily`, `weekly`, "
    "`monthly`: each past local day, ISO week or month as of its last day), by a job: the answer "
    "carries `job`, to poll at `GET /api/v1/jobs/{id}`. Default: false."
)
BadgeCreateIn = inline_serializer(
    "BadgeCreateInput",
    {
        **_badge_fields(partial=False),
        "award_past": serializers.BooleanField(required=False, help_text=AWARD_PAST_HELP),
    },
)
BadgeChangeIn = inline_serializer(
    "BadgeChangeInput",
    {
        "slug": serializers.RegexField(
            r"^[a-z0-9][a-z0-9-]*$", max_length=64, help_text="An existing badge."
        ),
        "changes": inline_serializer("BadgeChanges", _badge_fields(partial=True)),
    },
)
BadgePreviewIn = PolymorphicProxySerializer(
    component_name="BadgePreviewInput",
    serializers=[BadgeCreateIn, BadgeChangeIn],
    resource_type_field_name=None,
)
BadgePreviewOut = inline_serializer(
    "BadgePreview",
    {
        "would_award": inline_serializer(
            "BadgePreviewAward",
            {
                "rep": serializers.CharField(help_text="The rep's external_id."),
                "period": serializers.CharField(
                    help_text='The current period: "" (once), YYYY-MM-DD, YYYY-Www, YYYY-MM.'
                ),
            },
            many=True,
        ),
        "would_lose": serializers.ListField(
            child=serializers.CharField(),
            help_text="For a change: external_ids of current holders that would no longer meet the criteria.",
        ),
    },
)


class BadgeCreatedSerializer(BadgeSerializer):
    # The class of the recompute's job reference: one component, JobRef.
    job = type(JobRef)(required=False, help_text="With `award_past`: the job awarding the past periods.")

    class Meta(BadgeSerializer.Meta):
        fields = [*BadgeSerializer.Meta.fields, "job"]


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
        request=BadgeCreateIn,
        responses={201: BadgeCreatedSerializer},
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
        data = body_object(request.data, allowed=(*BADGE_WRITES, *READ_ONLY_ECHO, "award_past"))
        award_past = data.get("award_past", False)
        if not isinstance(award_past, bool):
            raise ValidationFailed("Must be true or false.", code="invalid_type", attr="award_past")
        fields = {k: v for k, v in data.items() if k in BADGE_WRITES}
        if not award_past:
            badge = badge_create(data=fields, actor=actor_of(request))
            return Response(BadgeSerializer(badge).data, status=status.HTTP_201_CREATED)
        badge, job = badge_create_awarding_past(tenant=request.tenant, data=fields, actor=actor_of(request))  # type: ignore[attr-defined]
        body = {**BadgeSerializer(badge).data, "job": {"id": str(job.id), "status": job.status}}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Preview a new or changed badge (writes nothing)",
        description=(
            "Which reps a badge would award now, without writing anything. The body is a badge definition "
            '(as `POST /api/v1/badges` takes; `award_past` is ignored) or `{"slug", "changes"}` for an '
            "existing badge, `changes` as a PATCH would send. `would_award`: the active reps that meet the "
            "criteria as of the tenant's local today and do not hold the badge for the current period; "
            "`would_lose` (a change only): the reps holding it for the current period that would no longer "
            "meet the changed criteria (their awards stay). An inactive badge would award no one. Admin keys "
            "only."
        ),
        request=BadgePreviewIn,
        responses={200: BadgePreviewOut},
        examples=[
            OpenApiExample(
                "A new badge",
                request_only=True,
                value={
                    "slug": "weekly-poster",
                    "name": "Weekly poster",
                    "criteria": {"metric": "events.post_published", "op": ">=", "value": 3, "window_days": 7},
                    "repeat": "weekly",
                },
            ),
            OpenApiExample(
                "A change",
                request_only=True,
                value={
                    "slug": "social-seller",
                    "changes": {"criteria": {"metric": "ssi", "op": ">=", "value": 75}},
                },
            ),
            OpenApiExample(
                "The answer",
                response_only=True,
                value={"would_award": [{"rep": "rep-17", "period": "2026-W49"}], "would_lose": ["rep-4"]},
            ),
        ],
    )
    @action(detail=False, methods=["post"], url_path="preview")
    def preview(self, request: Request) -> Response:
        data = body_object(request.data)
        return Response(badge_preview(tenant=request.tenant, data=data))  # type: ignore[attr-defined]

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
        return award_feed()


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
