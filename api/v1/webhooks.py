"""``/api/v1/webhooks``: subscriptions, their deliveries and redelivery (admins only)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.actors import actor_of
from api.pagination import FeedPagination
from api.permissions import ADMIN, key_roles
from api.v1.serializers import StrictInputSerializer
from gamification.models import WebhookDelivery, WebhookSubscription
from gamification.services.outbox import EVENT_TYPES
from gamification.webhooks.secrets import secret_open
from gamification.webhooks.selectors import deliveries_list
from gamification.webhooks.services import (
    delivery_redeliver,
    subscription_create,
    subscription_delete,
    subscription_update,
)

EVENT_CHOICES = [*EVENT_TYPES, "*"]
_HOST = r"[^/?#@\s\x00\[\]:]*[^/?#@\s\x00\[\]:.][^/?#@\s\x00\[\]:]*"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
# http(s)://host[:port][/path...]: what the service can parse (it checks the rest: `url_not_allowed`).
WEBHOOK_URL_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?://{_HOST}(:{_PORT})?([/?#][^\x00]*)?$"
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


FORMAT_HELP = (
    "What each request's body is: `json` (the default: the event envelope), `slack` (a Slack "
    "incoming-webhook message) or `teams` (a Microsoft Teams message with an Adaptive Card). A chat "
    "format is sent for `badge.awarded`, `level.up`, `goal.achieved` and `contest.ended` only: "
    "subscribing it to another event, or to `*`, is a 400 `chat_event_unsupported`."
)


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), help_text='Event names, or `["*"]` for all.'
    )
    format = serializers.ChoiceField(choices=WebhookSubscription.Format.choices, help_text=FORMAT_HELP)
    consecutive_failures = serializers.IntegerField(
        help_text="Deliveries in a row that failed every try; at 20 the webhook is deactivated."
    )
    deactivated_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was deactivated for failing; null otherwise."
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "events",
            "format",
            "active",
            "description",
            "consecutive_failures",
            "deactivated_at",
            "created_at",
            "updated_at",
        ]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.SerializerMethodField(
        help_text="Signs every delivery (`X-SSI-Signature`). Shown only in this answer; store it now."
    )

    def get_secret(self, subscription: WebhookSubscription) -> str:
        return secret_open(subscription.secret)  # stored sealed when SSI_SECRETS_KEY is set

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


@extend_schema_field({"type": "string", "pattern": WEBHOOK_URL_PATTERN})
class WebhookUrlField(serializers.CharField):
    """An http(s) URL; the service checks the rest (``url_not_allowed``)."""


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "array",
                "items": {"type": "string", "enum": ["*"]},
                "minItems": 1,
                "maxItems": len(EVENT_CHOICES),
            },
            {
                "type": "array",
                "items": {"type": "string", "enum": [c for c in EVENT_CHOICES if c != "*"]},
                "minItems": 1,
                "maxItems": len(EVENT_CHOICES),
            },
        ],
        "description": 'A non-empty list of event names, or exactly `["*"]` for every event.',
    }
)
class WebhookEventsField(serializers.ListField):
    """The events of a subscription; validated by the service."""


class WebhookInSerializer(StrictInputSerializer):
    url = WebhookUrlField(
        max_length=1000,
        help_text="http or https; the host must resolve to public addresses only (else `url_not_allowed`).",
    )
    events = WebhookEventsField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES),
        allow_empty=False,
        max_length=len(EVENT_CHOICES),
        help_text='A non-empty list of event names, or exactly `["*"]` for every event.',
    )
    format = serializers.ChoiceField(
        choices=WebhookSubscription.Format.choices, required=False, help_text=f"{FORMAT_HELP} Default `json`."
    )
    active = serializers.BooleanField(required=False, help_text="Default true.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    ignored_fields = ("id", "consecutive_failures", "deactivated_at", "created_at", "updated_at")


class RedeliverInSerializer(StrictInputSerializer):
    """No fields: the body is empty or ``{}``."""


class WebhookAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1, 2, ... across every round of this delivery.")
    at = serializers.DateTimeField(help_text="When the try started.")
    status_code = serializers.IntegerField(
        allow_null=True, help_text="The receiver's status; null: no answer."
    )
    error = serializers.CharField(help_text="Why the try failed (empty when it succeeded).")
    duration_ms = serializers.IntegerField()


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Sent as `X-SSI-Delivery`.")
    event_id = serializers.UUIDField(help_text="The event's id: the `id` of the body. Dedupe on it.")
    event_type = serializers.CharField(source="event.type")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.values)
    attempts = serializers.IntegerField(help_text="Tries made since the delivery was (re)queued.")
    next_attempt_at = serializers.SerializerMethodField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    tries = WebhookAttemptSerializer(many=True, help_text="Every try, oldest first.")

    @extend_schema_field(
        serializers.DateTimeField(allow_null=True, help_text="When the next try is due; null once finished.")
    )
    def get_next_attempt_at(self, delivery: WebhookDelivery) -> Any:
        if delivery.status != WebhookDelivery.Status.PENDING:
            return None
        return serializers.DateTimeField().to_representation(delivery.next_attempt_at)


class DeliveryPagination(FeedPagination):
    """Newest first, opaque cursors (deliveries keep arriving while a client pages)."""

    page_size = 50
    max_page_size = 200
    ordering = "-created_at"


WEBHOOK_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The webhook's id.")


@extend_schema_view(
    list=extend_schema(
        summary="List webhooks",
        description=(
            "Every subscription with its URL, events and health (consecutive failures, deactivation). Never "
            "the secret. Admin keys only."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a webhook (never its secret)",
        description="One subscription with its URL, events and health. Admin keys only.",
    ),
    create=extend_schema(
        summary="Create a webhook",
        description="The answer carries the signing `secret`, shown this once.",
        request=WebhookInSerializer,
        responses={201: WebhookCreatedSerializer},
    ),
    update=extend_schema(
        summary="Replace a webhook",
        description=(
            "Replaces the URL, events, format, active flag and description (those left out go back to their "
            "defaults); the secret stays. Admin keys only."
        ),
        request=WebhookInSerializer,
        responses={200: WebhookSerializer},
    ),
    partial_update=extend_schema(
        summary="Update a webhook",
        description="Setting `active` back to true clears `consecutive_failures` and `deactivated_at`.",
        request=WebhookInSerializer(partial=True),
        responses={200: WebhookSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a webhook with its deliveries",
        description=(
            "Removes the subscription and its delivery history; nothing more is sent to it. Admin keys only."
        ),
    ),
)
@extend_schema(tags=["webhooks"])
class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [key_roles(read=ADMIN, write=ADMIN)]
    serializer_class = WebhookSerializer
    queryset = WebhookSubscription.objects.order_by("id")

    def create(self, request: Request) -> Response:
        data = WebhookInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = subscription_create(**data.validated_data, actor=actor_of(request))
        return Response(WebhookCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        subscription = self.get_object()
        data = WebhookInSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if not partial:  # PUT replaces: what is left out goes back to its default
            changes.setdefault("active", True)
            changes.setdefault("description", "")
            changes.setdefault("format", WebhookSubscription.Format.JSON)
        return Response(
            WebhookSerializer(
                subscription_update(subscription=subscription, data=changes, actor=actor_of(request))
            ).data
        )

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        subscription_delete(subscription=self.get_object(), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _deliveries(self, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
        return deliveries_list(subscription=subscription, status=self.request.query_params.get("status"))

    @extend_schema(
        summary="List a webhook's deliveries, newest first, with their tries",
        description=(
            "Each event sent (or to be sent) to the subscription: its status, payload and every try with the "
            "receiver's status code. Admin keys only."
        ),
        parameters=[
            WEBHOOK_ID,
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=WebhookDelivery.Status.values,
                description="Only deliveries with this status.",
            ),
        ],
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=DeliveryPagination)
    def deliveries(self, request: Request, pk: str) -> Response:
        page = self.paginate_queryset(self._deliveries(self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery again",
        description=(
            "Re-queues a failed or succeeded delivery with a fresh set of tries; its earlier tries stay "
            "listed. 409 when it is still pending (`delivery_pending`) or the webhook is inactive "
            "(`webhook_inactive`)."
        ),
        parameters=[
            WEBHOOK_ID,
            OpenApiParameter("delivery_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
        ],
        request=OpenApiTypes.OBJECT,  # nothing, or {}: the hook says no fields (api/schema/hooks.py)
        responses={202: WebhookDeliverySerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=f"deliveries/(?P<delivery_id>{UUID_PATTERN})/redeliver",
        url_name="redeliver",
    )
    def redeliver(self, request: Request, pk: str, delivery_id: str) -> Response:
        RedeliverInSerializer(data=request.data or {}).is_valid(raise_exception=True)
        delivery = delivery_redeliver(subscription=self.get_object(), delivery_id=delivery_id)
        delivery = (
            WebhookDelivery.objects.select_related("event").prefetch_related("tries").get(pk=delivery.pk)
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
