"""``/api/v1/challenges``: head-to-head challenges between two reps.

The rules: docs/contests.md#head-to-head-challenges.
"""

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
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.actors import actor_of
from api.pagination import PagePagination
from api.permissions import ADMIN, rep_acts_or_key_roles
from api.v1.contests import METRIC_HELP
from api.v1.serializers import body_object
from gamification.models import Challenge
from gamification.services.challenges import (
    FIELDS,
    challenge_create,
    challenge_get,
    challenge_respond,
    challenge_values,
    challenges_expire,
    challenges_visible_to_rep,
)

READ_ONLY_ECHO = (
    "id",
    "status",
    "expires_at",
    "responded_at",
    "finalized_at",
    "challenger_value",
    "opponent_value",
    "winner",
    "xp_won",
    "created_at",
    "updated_at",
)
CHALLENGE_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The challenge's id."
)
CHALLENGE_METRIC_HELP = f"{METRIC_HELP} Of the gains, only `ssi.gain`."


class ChallengeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    challenger = serializers.CharField(help_text="The challenging rep's external_id.")
    opponent = serializers.CharField(help_text="The challenged rep's external_id.")
    metric = serializers.CharField(help_text=CHALLENGE_METRIC_HELP)
    start_date = serializers.DateField(help_text="The first local day counted (the tenant's time zone).")
    end_date = serializers.DateField(help_text="The last local day counted.")
    status = serializers.ChoiceField(
        choices=Challenge.Status.values,
        help_text="pending until the opponent answers or `expires_at` passes (then expired); accepted "
        "(it runs over its dates) or declined; ended once finalized after `end_date`.",
    )
    expires_at = serializers.DateTimeField(help_text="Until when the opponent may accept or decline.")
    responded_at = serializers.DateTimeField(allow_null=True)
    finalized_at = serializers.DateTimeField(allow_null=True)
    challenger_value = serializers.FloatField(
        help_text="The challenger's value over `[start_date, min(end_date, today)]`, rounded to 2 decimals "
        "(frozen once ended)."
    )
    opponent_value = serializers.FloatField(help_text="The opponent's value, likewise.")
    winner = serializers.CharField(
        allow_null=True, help_text="Once ended: the rep with the higher value; null for a tie or before."
    )
    xp_won = serializers.IntegerField(help_text="Once ended: the XP the winner got (0: a tie or before).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


ChallengeIn = inline_serializer(
    "ChallengeInput",
    {
        "challenger": serializers.CharField(
            required=False,
            help_text="Admin keys: the challenging rep's external_id (required). Rep tokens: the token's "
            "own rep (absent, or that rep).",
        ),
        "opponent": serializers.CharField(help_text="Another active rep's external_id."),
        "metric": serializers.CharField(help_text=CHALLENGE_METRIC_HELP),
        "start_date": serializers.DateField(),
        "end_date": serializers.DateField(help_text="On or after start_date, at most 31 days after it."),
    },
)

EXAMPLE_IN = {
    "opponent": "bob",
    "metric": "events.post_published",
    "start_date": "2026-03-02",
    "end_date": "2026-03-08",
}
EXAMPLE_OUT = {
    "id": 3,
    "challenger": "ann",
    **EXAMPLE_IN,
    "status": "pending",
    "expires_at": "2026-03-03T09:00:00Z",
    "responded_at": None,
    "finalized_at": None,
    "challenger_value": 0.0,
    "opponent_value": 0.0,
    "winner": None,
    "xp_won": 0,
    "created_at": "2026-03-01T09:00:00Z",
    "updated_at": "2026-03-01T09:00:00Z",
}
EXAMPLE_ENDED = {
    **EXAMPLE_OUT,
    "status": "ended",
    "responded_at": "2026-03-01T12:00:00Z",
    "finalized_at": "2026-03-09T00:05:00Z",
    "challenger_value": 3.0,
    "opponent_value": 2.0,
    "winner": "ann",
    "xp_won": 50,
    "updated_at": "2026-03-09T00:05:00Z",
}


def challenge_body(challenge: Challenge, request: Request) -> dict[str, Any]:
    values = challenge_values(tenant=request.tenant, challenge=challenge)  # type: ignore[attr-defined]
    return {
        "id": challenge.pk,
        "challenger": challenge.challenger.external_id,
        "opponent": challenge.opponent.external_id,
        "metric": challenge.metric,
        "start_date": challenge.start_date,
        "end_date": challenge.end_date,
        "status": challenge.status,
        "expires_at": challenge.expires_at,
        "responded_at": challenge.responded_at,
        "finalized_at": challenge.finalized_at,
        "challenger_value": values.challenger,
        "opponent_value": values.opponent,
        "winner": challenge.winner.external_id if challenge.winner is not None else None,
        "xp_won": challenge.xp_won,
        "created_at": challenge.created_at,
        "updated_at": challenge.updated_at,
    }


ANSWER = (
    "Only the challenged rep, with its rep token, while the challenge is `pending` and before `expires_at` "
    "(403 `not_opponent` for anyone else; 409 `challenge_expired`, `challenge_accepted`, "
    "`challenge_declined` once it can no longer be answered)."
)


@extend_schema_view(
    list=extend_schema(
        summary="List challenges",
        description="Every challenge, oldest first, with both reps' current values. A rep token sees only "
        "the challenges its rep is in.",
    ),
    retrieve=extend_schema(
        summary="Get a challenge",
        description="With both reps' values as of now (frozen once it ended). A rep token may read only a "
        "challenge its rep is in (another is a 404).",
        parameters=[CHALLENGE_ID],
        examples=[OpenApiExample("An ended challenge", value=EXAMPLE_ENDED, response_only=True)],
    ),
    create=extend_schema(
        summary="Challenge a rep",
        description=(
            "A rep token challenges another active rep of the tenant as its own rep; an admin key names the "
            "`challenger` too. The opponent has the tenant's `challenge_accept_hours` to accept or decline. "
            "403 `challenges_disabled` when the tenant's `challenges_enabled` is false; 400 names the field "
            "(`unknown_rep`, `inactive_rep`, `unknown_metric`, `required`, `invalid`)."
        ),
        request=ChallengeIn,
        responses={201: ChallengeSerializer},
        examples=[
            OpenApiExample("A week of posts", value=EXAMPLE_IN, request_only=True),
            OpenApiExample(
                "The challenge created", value=EXAMPLE_OUT, response_only=True, status_codes=["201"]
            ),
        ],
    ),
)
@extend_schema(tags=["challenges"])
class ChallengeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [rep_acts_or_key_roles(write=ADMIN)]
    serializer_class = ChallengeSerializer
    pagination_class = PagePagination
    http_method_names = ["get", "post", "head", "options"]

    def _rep_id(self) -> int | None:
        principal = self.request.user
        if getattr(principal, "kind", None) == "rep":
            return int(principal.rep_id)  # type: ignore[union-attr]
        return None

    def get_queryset(self) -> QuerySet[Challenge]:
        queryset = Challenge.objects.select_related("challenger", "opponent", "winner").order_by("id")
        rep_id = self._rep_id()
        if rep_id is not None:
            queryset = challenges_visible_to_rep(queryset, rep_id)
        return queryset

    def list(self, request: Request) -> Response:
        challenges_expire()
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response([challenge_body(c, request) for c in page])

    def retrieve(self, request: Request, pk: str) -> Response:
        challenges_expire()
        return Response(challenge_body(challenge_get(queryset=self.get_queryset(), pk=pk), request))

    def create(self, request: Request) -> Response:
        data = body_object(request.data, allowed=(*FIELDS, *READ_ONLY_ECHO))
        challenge = challenge_create(
            tenant=request.tenant,  # type: ignore[attr-defined]
            data={k: v for k, v in data.items() if k in FIELDS},
            actor=actor_of(request),
            challenger_rep_id=self._rep_id(),
        )
        challenge = challenge_get(queryset=Challenge.objects.all(), pk=challenge.pk)
        return Response(challenge_body(challenge, request), status=status.HTTP_201_CREATED)

    def _respond(self, request: Request, pk: str, *, accept: bool) -> Response:
        body_object(request.data or {}, allowed=())
        challenge = challenge_get(queryset=self.get_queryset(), pk=pk)
        challenge = challenge_respond(
            challenge=challenge, rep_id=self._rep_id(), accept=accept, actor=actor_of(request)
        )
        challenge = challenge_get(queryset=Challenge.objects.all(), pk=challenge.pk)
        return Response(challenge_body(challenge, request))

    @extend_schema(
        summary="Accept a challenge",
        description=f"The challenge turns `accepted` and runs over its dates. {ANSWER}",
        parameters=[CHALLENGE_ID],
        request=OpenApiTypes.OBJECT,  # nothing, or {}: the hook says no fields (api/schema/hooks.py)
        responses={200: ChallengeSerializer},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        return self._respond(request, pk, accept=True)

    @extend_schema(
        summary="Decline a challenge",
        description=f"The challenge turns `declined`: it never runs and grants nothing. {ANSWER}",
        parameters=[CHALLENGE_ID],
        request=OpenApiTypes.OBJECT,
        responses={200: ChallengeSerializer},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        return self._respond(request, pk, accept=False)
