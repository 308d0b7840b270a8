"""``/api/v1/activities``: ingestion (batches of up to 1000 events) and the event log."""

from __future__ import annotations

from typing import Any

import django_filters
import psycopg.errors
from django.db import OperationalError, transaction
from django.db.models import F, QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import ErrorItemSerializer
from api.idempotency import HEADER, fingerprint, idempotency_begin, idempotency_save, validate_key
from api.pagination import FeedPagination
from api.permissions import ADMIN_OR_INTEGRATION, key_roles
from api.v1.filters import IsoDateTimeFilter
from api.v1.serializers import body_object
from core.errors import ValidationFailed
from scoring.models import Activity
from scoring.services.ingest import EVENT_FIELDS, MAX_BATCH, MAX_EVENT_VALUE, activities_ingest

DEADLOCK_RETRIES = 3


class EventInSerializer(serializers.Serializer):
    id = serializers.CharField(
        max_length=128, help_text="Your unique id for the event: a repeat is a duplicate."
    )
    rep = serializers.CharField(max_length=128, help_text="The rep's external_id.")
    type = serializers.CharField(help_text="A catalog type (GET /api/v1/event-types) or a custom one.")
    occurred_at = serializers.DateTimeField(help_text="ISO 8601 with a time zone; at most 5 minutes ahead.")
    value = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=MAX_EVENT_VALUE,
        help_text="A number from 0 to 10^15 (default 1).",
    )
    metadata = serializers.DictField(required=False, help_text="Any JSON object up to 4 KB.")


class BatchInSerializer(serializers.Serializer):
    events = EventInSerializer(many=True, help_text=f"At most {MAX_BATCH} events.")


class RejectedSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the event in the batch.")
    id = serializers.CharField(allow_null=True)
    errors = ErrorItemSerializer(many=True, help_text="What is wrong with the event.")  # type: ignore[assignment]


class IngestResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored now.")
    duplicates = serializers.IntegerField(
        help_text="Events whose id was already stored (or repeated in the batch)."
    )
    rejected = RejectedSerializer(many=True)


class ActivitySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="event_id")
    rep = serializers.CharField(source="rep_external_id")

    class Meta:
        model = Activity
        fields = ["id", "rep", "type", "occurred_at", "local_day", "value", "metadata", "ingested_at"]


class ActivityFilter(django_filters.FilterSet):
    rep = django_filters.CharFilter(field_name="rep__external_id", help_text="A rep's external_id.")
    type = django_filters.CharFilter(help_text="An event type.")
    since = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", help_text="occurred_at >= this.")
    until = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", help_text="occurred_at < this.")

    class Meta:
        model = Activity
        fields = ["rep", "type", "since", "until"]


def _events_of(data: Any) -> list[Any]:
    """The envelope: an object with an ``events`` list of at most MAX_BATCH. Else 400, nothing stored."""
    data = body_object(
        data,
        allowed=("events",),
        message='The body must be an object: {"events": [...]}.',
        code="invalid_envelope",
    )
    events = data.get("events")
    if not isinstance(events, list):
        raise ValidationFailed("A list of events is required.", code="required", attr="events")
    if len(events) > MAX_BATCH:
        raise ValidationFailed(
            f"At most {MAX_BATCH} events per request ({len(events)} sent).",
            code="batch_too_large",
            attr="events",
        )
    return events


def _is_deadlock(exc: OperationalError) -> bool:
    return isinstance(exc.__cause__, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure)


@extend_schema_view(
    create=extend_schema(
        summary="Ingest a batch of events",
        description=(
            "Up to 1000 events. Each is validated on its own: valid events are stored (durably, before the "
            "answer), invalid ones are listed in `rejected` with their errors. An event whose `id` was "
            "seen before is a duplicate: stored once, counted in `duplicates`. A malformed envelope is a 400 "
            "and stores nothing. With an `Idempotency-Key` header the first answer is replayed for 24 h "
            "(same key, other body: 422; same key still running: 409)."
        ),
        request=BatchInSerializer,
        responses={200: IngestResultSerializer},
        parameters=[
            OpenApiParameter(
                HEADER,
                {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
                OpenApiParameter.HEADER,
                description="Optional: 1 to 255 printable characters.",
            )
        ],
    ),
    list=extend_schema(
        summary="List events, newest first (cursor pagination)",
        description=(
            "The tenant's stored events, newest first, filtered by rep, type and a time range (`since`, "
            "`until`). Follow `next` to page; a cursor stays valid while new events arrive. Any tenant API "
            "key."
        ),
    ),
)
@extend_schema(tags=["activities"])
class ActivityViewSet(viewsets.GenericViewSet):
    permission_classes = [key_roles(write=ADMIN_OR_INTEGRATION)]
    serializer_class = ActivitySerializer
    pagination_class = FeedPagination
    filterset_class = ActivityFilter
    extra_error_statuses = ["422"]
    # An event holding NUL, a lone surrogate or a number out of range is rejected on its own,
    # not the whole batch (api/parsers.py, scoring.services.ingest.validate_event).
    checked_per_item = True

    def get_queryset(self) -> QuerySet[Activity]:
        return Activity.objects.annotate(rep_external_id=F("rep__external_id")).order_by("-id")

    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ActivitySerializer(page, many=True).data)

    def create(self, request: Request) -> HttpResponse:
        events = _events_of(request.data)
        key = request.headers.get(HEADER)
        api_key_id = int(request.user.key_id)  # type: ignore[union-attr]
        body_fingerprint = fingerprint(request.data) if key is not None else ""
        if key is not None:
            validate_key(key)
        for attempt in range(DEADLOCK_RETRIES):
            try:
                with transaction.atomic():
                    if key is not None:
                        replay = idempotency_begin(
                            api_key_id=api_key_id, key=key, body_fingerprint=body_fingerprint
                        )
                        if replay is not None:
                            replayed = HttpResponse(
                                replay.body, status=replay.status_code, content_type="application/json"
                            )
                            replayed["Idempotent-Replayed"] = "true"
                            return replayed
                    result = activities_ingest(tenant=request.tenant, events=events)  # type: ignore[attr-defined]
                    # Rendered once: the bytes sent now are the bytes a replay sends.
                    body = JSONRenderer().render(result.as_dict())
                    if key is not None:
                        idempotency_save(
                            api_key_id=api_key_id,
                            key=key,
                            body_fingerprint=body_fingerprint,
                            status_code=200,
                            body=body,
                        )
                return HttpResponse(body, content_type="application/json")
            except OperationalError as exc:
                # Two batches sharing event ids in different orders can deadlock; PostgreSQL
                # aborts one, and a retry of the whole batch is safe (duplicates are skipped).
                if not _is_deadlock(exc) or attempt == DEADLOCK_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")


assert set(EventInSerializer().fields) == EVENT_FIELDS
