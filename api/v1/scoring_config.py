"""``/api/v1/scoring-config``, ``/api/v1/event-types`` and ``/api/v1/settings``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from api.actors import actor_of
from api.pagination import PagePagination
from api.permissions import ADMIN, KEY_ROLES, key_roles
from api.v1.scores import PAGE_PARAMETERS, JobRef, PreviewPageSerializer, preview_page
from api.v1.serializers import TimezoneField, body_object, external_id_list, parse_date
from core.clock import local_yesterday
from core.errors import ValidationFailed
from gamification.services.xp import xp_table
from provisioning.settings import settings_update
from scoring.engine import EVENT_TYPES
from scoring.models import ScoringConfig
from scoring.selectors import reps_by_external_id
from scoring.services.config import (
    config_parse_or_400,
    scoring_config_current,
    scoring_config_save,
    scoring_config_version,
)
from scoring.services.jobs import preview_job_create
from scoring.services.preview import INLINE_REPS, preview_reps_inline, preview_rows
from scoring.services.relocalize import activities_relocalize_later
from tenants.tenant_settings import DEFAULTS, INDUSTRIES, settings_get


class ScoringConfigSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    window_days = serializers.IntegerField()
    half_life_days = serializers.FloatField(allow_null=True)
    custom_event_types = serializers.ListField(child=serializers.DictField())
    pillars = serializers.DictField(help_text="brand, find, engage, relationships: {max_points, signals}.")
    created_at = serializers.DateTimeField()


ConfigIn = inline_serializer(
    "ScoringConfigInput",
    {
        "window_days": serializers.IntegerField(min_value=7, max_value=365),
        "half_life_days": serializers.FloatField(allow_null=True, min_value=1, max_value=365),
        "custom_event_types": serializers.ListField(child=serializers.DictField(), required=False),
        "pillars": serializers.DictField(),
    },
)


def config_body(row: ScoringConfig) -> dict[str, Any]:
    # From the parsed config, not the stored JSON: jsonb does not keep key order,
    # and the pillars read best in the model's order.
    config = scoring_config_version(row.version).config
    return {"version": row.version, **config.to_dict(), "created_at": row.created_at}


class ScoringConfigViewSet(ViewSet):
    """The tenant's scoring model: read by every key, replaced by admins.

    The rules: docs/scoring.md#changing-the-config.
    """

    permission_classes = [key_roles(write=ADMIN)]
    pagination_class = PagePagination

    def get_permissions(self) -> Any:
        if self.action == "preview":
            return [key_roles(read=ADMIN, write=ADMIN)()]
        return super().get_permissions()

    @extend_schema(
        tags=["scoring"], summary="The current scoring config", responses={200: ScoringConfigSerializer}
    )
    def retrieve(self, request: Request) -> Response:
        scoring_config_current()  # seeds version 1 if the tenant has none
        return Response(config_body(ScoringConfig.objects.order_by("-version").first()))  # type: ignore[arg-type]

    @extend_schema(
        tags=["scoring"],
        summary="Replace the scoring config (a new version)",
        description="Validated as a whole: an invalid config is a 400 naming the field, and nothing changes. "
        "Every save is a new immutable version; snapshots record the version they were computed with.",
        request=ConfigIn,
        responses={200: ScoringConfigSerializer},
    )
    def update(self, request: Request) -> Response:
        principal = request.user
        saved = scoring_config_save(
            data=request.data,
            actor=actor_of(request),
            created_by=f"key:{principal.key_id}",  # type: ignore[union-attr]
        )
        return Response(config_body(ScoringConfig.objects.get(version=saved.version)))

    @extend_schema(
        tags=["scoring"],
        summary="Every saved version, newest first",
        responses={200: ScoringConfigSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def versions(self, request: Request) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(ScoringConfig.objects.order_by("-version"), request, view=self)
        return paginator.get_paginated_response([config_body(row) for row in page or []])

    @extend_schema(
        tags=["scoring"],
        summary="Scores under a draft config (nothing saved)",
        description=f"At most {INLINE_REPS} reps previewed: 200 with their scores, a page at a time "
        f"(`page`, `page_size`; send the same body for each page). More: 202 with a job; poll "
        "`GET /api/v1/jobs/{id}`, then read the scores from `GET /api/v1/jobs/{id}/results`.",
        parameters=PAGE_PARAMETERS,
        request=inline_serializer(
            "PreviewInput",
            {
                "config": serializers.DictField(help_text="A whole config, as for PUT."),
                "date": serializers.DateField(
                    required=False, help_text="Default: the tenant's local yesterday."
                ),
                "reps": serializers.ListField(
                    child=serializers.CharField(),
                    required=False,
                    allow_null=True,
                    help_text="external_ids; default (absent or null): every active rep.",
                ),
            },
        ),
        responses={
            200: PreviewPageSerializer,
            202: inline_serializer("PreviewAccepted", {"job": JobRef}),
        },
    )
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        data = body_object(request.data, allowed=("config", "date", "reps"))
        if "config" not in data:
            raise ValidationFailed("This field is required.", code="required", attr="config")
        config = config_parse_or_400(data["config"], attr_prefix="config.")
        day = parse_date(data.get("date"), "date") or local_yesterday(request.tenant.timezone)  # type: ignore[attr-defined]
        rep_ids = None
        if data.get("reps") is not None:
            rep_ids = reps_by_external_id(external_id_list(data["reps"], attr="reps"), attr="reps")
        reps = preview_reps_inline(rep_ids)
        if reps is None:
            job = preview_job_create(config=config, day=day, rep_ids=rep_ids)
            return Response({"job": {"id": job.id, "status": job.status}}, status=status.HTTP_202_ACCEPTED)
        return preview_page(request, self, day=day, rows=preview_rows(config=config, day=day, reps=reps))


class EventTypesViewSet(ViewSet):
    permission_classes = [key_roles(write=ADMIN, read=KEY_ROLES)]

    @extend_schema(
        tags=["scoring"],
        summary="The event types this tenant accepts, with their XP",
        description=(
            "The catalog's event types and the tenant's custom ones, each with the pillar signals it feeds "
            "and the XP it earns under the tenant's settings. Any tenant API key."
        ),
        responses={
            200: inline_serializer(
                "EventType",
                {
                    "name": serializers.CharField(),
                    "description": serializers.CharField(),
                    "xp": serializers.IntegerField(),
                    "custom": serializers.BooleanField(),
                },
                many=True,
            )
        },
    )
    def list(self, request: Request) -> Response:
        config = scoring_config_current().config
        xp = xp_table(config, settings_get(request.tenant)["xp_per_type"])  # type: ignore[attr-defined]
        rows = [
            {"name": name, "description": meaning, "xp": xp[name], "custom": False}
            for name, (meaning, _default) in EVENT_TYPES.items()
        ]
        rows += [
            {"name": c.name, "description": "Custom event type", "xp": xp[c.name], "custom": True}
            for c in config.custom_event_types
        ]
        return Response(rows)


SettingsOut = inline_serializer(
    "TenantSettings",
    {
        "timezone": TimezoneField(),
        "auto_create_reps": serializers.BooleanField(),
        "recompute_hour": serializers.IntegerField(min_value=0, max_value=23),
        "streak_mode": serializers.ChoiceField(choices=["weekdays", "daily"]),
        "leaderboard_names": serializers.ChoiceField(choices=["full", "anonymous"]),
        "xp_per_type": serializers.DictField(child=serializers.IntegerField(min_value=0)),
        "level_thresholds": serializers.ListField(child=serializers.IntegerField(min_value=0)),
        "embed_origins": serializers.ListField(child=serializers.CharField()),
        "daily_caps": serializers.DictField(child=serializers.IntegerField(min_value=1)),
        "fair_play_factor": serializers.FloatField(),
        "challenges_enabled": serializers.BooleanField(),
        "challenge_accept_hours": serializers.IntegerField(min_value=1),
        "challenge_xp": serializers.IntegerField(min_value=0),
        "industry": serializers.ChoiceField(
            choices=INDUSTRIES, allow_null=True, help_text="The tenant's industry, or null."
        ),
        "benchmark": serializers.BooleanField(
            help_text="Whether the tenant takes part in its industry's benchmark (default false)."
        ),
    },
)
SettingsIn = inline_serializer(
    "TenantSettingsPatch",
    {
        "timezone": TimezoneField(required=False),
        "auto_create_reps": serializers.BooleanField(required=False),
        "recompute_hour": serializers.IntegerField(min_value=0, max_value=23, required=False),
        "streak_mode": serializers.ChoiceField(choices=["weekdays", "daily"], required=False),
        "leaderboard_names": serializers.ChoiceField(choices=["full", "anonymous"], required=False),
        "xp_per_type": serializers.DictField(child=serializers.IntegerField(min_value=0), required=False),
        "level_thresholds": serializers.ListField(
            child=serializers.IntegerField(min_value=0), required=False
        ),
        "embed_origins": serializers.ListField(child=serializers.CharField(), required=False),
        "daily_caps": serializers.DictField(child=serializers.IntegerField(min_value=1), required=False),
        "fair_play_factor": serializers.FloatField(required=False),
        "challenges_enabled": serializers.BooleanField(required=False),
        "challenge_accept_hours": serializers.IntegerField(min_value=1, required=False),
        "challenge_xp": serializers.IntegerField(min_value=0, required=False),
        "industry": serializers.ChoiceField(
            choices=INDUSTRIES, allow_null=True, required=False, help_text="One industry, or null for none."
        ),
        "benchmark": serializers.BooleanField(
            required=False,
            help_text="true: the tenant's aggregates (reps per SSI, company mean) join its industry's "
            "benchmark from the next computation; false: they leave it at the next one.",
        ),
    },
)
assert set(SettingsOut.fields) == {"timezone", *DEFAULTS}


class SettingsViewSet(ViewSet):
    permission_classes = [key_roles(read=ADMIN, write=ADMIN)]

    @extend_schema(
        tags=["settings"],
        summary="The tenant's settings",
        description=(
            "Time zone, auto-creation of reps, streak mode, leaderboard names, the nightly recompute hour, XP"
            " per event type, the level thresholds, the origins allowed to embed a rep's own console"
            " page (`embed_origins`), the daily caps per event type (`daily_caps`) and the fair-play"
            " report's factor (`fair_play_factor`), and head-to-head challenges (`challenges_enabled`,"
            " `challenge_accept_hours`, `challenge_xp`), and the industry benchmark (`industry`, and"
            " `benchmark`, off until an admin opts in). Admin keys only."
        ),
        responses={200: SettingsOut},
    )
    def retrieve(self, request: Request) -> Response:
        return Response(settings_get(request.tenant))  # type: ignore[attr-defined]

    @extend_schema(
        tags=["settings"],
        summary="Change some settings",
        description="A time zone change re-dates stored events to the new local days (in the background); "
        "scores already computed are not changed. `industry` and `benchmark` take effect at the next "
        "benchmark computation. Every change is in the audit log.",
        request=SettingsIn,
        responses={200: SettingsOut},
    )
    def partial_update(self, request: Request) -> Response:
        changes = body_object(request.data)
        tenant = request.tenant  # type: ignore[attr-defined]
        old_timezone = tenant.timezone
        with transaction.atomic():
            result = settings_update(
                tenant,
                changes,
                known_types=scoring_config_current().config.event_types,
                actor=actor_of(request),
            )
            if tenant.timezone != old_timezone:
                activities_relocalize_later(tenant)
        return Response(result, status=status.HTTP_200_OK)


_ = OpenApiTypes
