"""``/api/v1/platform/tenants``: tenant provisioning, platform host and platform key only."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.actors import actor_of
from api.permissions import IsPlatform
from api.v1.serializers import StrictInputSerializer, TenantSlugField, TimezoneField, body_object
from core.errors import ValidationFailed
from provisioning.lifecycle import PURGE_NOW, tenant_purge, tenant_restore, tenant_suspend
from provisioning.tenants import admin_invitation_send, console_url, tenant_create, tenant_update
from tenants.models import Tenant, TenantStatus
from tenants.tenant_settings import INDUSTRIES, MAX_RATE_LIMIT, rate_limit_override, settings_get


class TenantOutSerializer(serializers.ModelSerializer):
    domains = serializers.SerializerMethodField()
    timezone = TimezoneField(read_only=True)
    rate_limit_per_minute = serializers.SerializerMethodField(
        help_text="Requests a minute per key of this tenant (0: no limit); null: the platform default "
        "(`SSI_RATE_LIMIT_PER_MINUTE`)."
    )

    status = serializers.ChoiceField(
        choices=TenantStatus.choices,
        read_only=True,
        help_text="`active`, or `suspended` (`DELETE`): its keys, rep tokens and console answer 403 "
        "`tenant_suspended` and nothing is scored or delivered until it is restored or purged.",
    )
    suspended_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it was suspended; null while active."
    )
    purge_after = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When a suspended tenant's schema is dropped (`SSI_TENANT_PURGE_DAYS` after its "
        "suspension), unless restored first; null while active.",
    )
    industry = serializers.SerializerMethodField(help_text="The tenant's industry, or null.")
    benchmark = serializers.SerializerMethodField(
        help_text="Whether the tenant takes part in its industry's benchmark."
    )

    class Meta:
        model = Tenant
        fields = [
            "slug",
            "name",
            "timezone",
            "domains",
            "rate_limit_per_minute",
            "industry",
            "benchmark",
            "status",
            "suspended_at",
            "purge_after",
            "created_at",
            "updated_at",
        ]

    def get_domains(self, tenant: Tenant) -> list[str]:
        return [d.domain for d in tenant.domains.all()]

    @extend_schema_field(serializers.IntegerField(allow_null=True, min_value=0))
    def get_rate_limit_per_minute(self, tenant: Tenant) -> int | None:
        return rate_limit_override(tenant)

    @extend_schema_field(serializers.ChoiceField(choices=INDUSTRIES, allow_null=True))
    def get_industry(self, tenant: Tenant) -> str | None:
        return settings_get(tenant)["industry"]

    @extend_schema_field(serializers.BooleanField())
    def get_benchmark(self, tenant: Tenant) -> bool:
        return bool(settings_get(tenant)["benchmark"])


class TenantCreatedSerializer(TenantOutSerializer):
    admin_key = serializers.CharField(help_text="The first `admin` API key of the tenant. Shown only here.")
    admin_invite_url = serializers.URLField(
        allow_null=True,
        help_text="The first admin member's console invitation link (valid 7 days, once; also emailed) "
        "when `admin_email` was sent; else null.",
    )

    class Meta(TenantOutSerializer.Meta):
        fields = [*TenantOutSerializer.Meta.fields, "admin_key", "admin_invite_url"]


class TenantCreateInSerializer(StrictInputSerializer):
    slug = TenantSlugField(max_length=40)
    name = serializers.CharField(max_length=200)
    timezone = TimezoneField(max_length=64, default="UTC")
    admin_email = serializers.EmailField(
        max_length=254,
        required=False,
        help_text="The first admin member of the console: gets an invitation link (`admin_invite_url`).",
    )


class TenantPatchInSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    timezone = TimezoneField(max_length=64, required=False)
    rate_limit_per_minute = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_RATE_LIMIT,
        help_text="Requests a minute per key (0: no limit); null: back to the platform default. "
        "Only the platform sets it: a tenant's admins cannot lift their own limit.",
    )
    industry = serializers.ChoiceField(
        choices=INDUSTRIES, required=False, allow_null=True, help_text="One industry, or null for none."
    )
    benchmark = serializers.BooleanField(
        required=False, help_text="Whether the tenant takes part in its industry's benchmark."
    )
    slug = serializers.CharField(required=False, help_text="Cannot change; accepted only if unchanged.")
    ignored_fields = ("domains", "status", "suspended_at", "purge_after", "created_at", "updated_at")


class TenantFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=TenantStatus.choices, method="by_status", help_text="Only the tenants in this status."
    )

    class Meta:
        model = Tenant
        fields = ["status"]

    def by_status(self, queryset: QuerySet[Tenant], name: str, value: str) -> QuerySet[Tenant]:
        return queryset.filter(suspended_at__isnull=value == TenantStatus.ACTIVE)


class TenantDeleteQuerySerializer(serializers.Serializer):
    purge = serializers.ChoiceField(
        choices=[PURGE_NOW],
        required=False,
        help_text="`now`: drop the schema at once instead of suspending (irreversible; needs `confirm`).",
    )
    confirm = serializers.CharField(
        required=False,
        max_length=40,
        help_text="With `purge=now`: the tenant's slug, repeated.",
    )


@extend_schema_view(
    list=extend_schema(
        summary="List tenants",
        description=(
            "Every tenant with its domains, settings of the platform and status (`?status=suspended` lists "
            "the suspended ones). The platform key, on the platform host only."
        ),
    ),
    retrieve=extend_schema(
        summary="Get a tenant",
        description="One tenant by its slug. The platform key, on the platform host only.",
    ),
    create=extend_schema(
        summary="Create a tenant",
        description="Creates the tenant's schema, its domain `<slug>.<base domain>` and a first `admin` "
        "API key, returned once as `admin_key`. With `admin_email`, also a first admin member of the "
        "console and their invitation link, `admin_invite_url` (valid 7 days, once; also emailed).",
        request=TenantCreateInSerializer,
        responses={201: TenantCreatedSerializer},
    ),
    partial_update=extend_schema(
        summary="Update a tenant's name, time zone, rate limit or industry benchmark",
        description=(
            "Changes the fields sent; the slug never changes. A new time zone applies to the next local days "
            "scored; `industry` and `benchmark` the next benchmark computation. Every change is in the "
            "tenant's audit log. The platform key, on the platform host only."
        ),
        request=TenantPatchInSerializer,
        responses={200: TenantOutSerializer},
    ),
    destroy=extend_schema(
        summary="Suspend a tenant (or, with purge=now and confirm, drop it at once)",
        description=(
            "Suspends the tenant: its API keys, rep tokens and console answer 403 `tenant_suspended`, "
            "nothing is scored or delivered, and its data stays as it is. `POST .../restore` brings it "
            "back; its schema is dropped `SSI_TENANT_PURGE_DAYS` (default 30) after the suspension "
            "(`purge_after`). Suspending a suspended tenant changes nothing. The answer is the tenant, "
            "`status: suspended`.\n\n"
            "`?purge=now&confirm=<slug>` drops the schema, domains, keys and data at once (204), active or "
            "suspended; irreversible. Without `confirm`: 400 `confirmation_required`; another value than the "
            "slug: 400 `confirmation_mismatch`. The platform key, on the platform host only."
        ),
        parameters=[TenantDeleteQuerySerializer],
        responses={
            200: TenantOutSerializer,
            204: OpenApiResponse(
                description="Purged (`purge=now`): the schema and everything in it are gone."
            ),
        },
    ),
)
@extend_schema(tags=["platform"])
class TenantViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsPlatform]
    serializer_class = TenantOutSerializer
    queryset = Tenant.objects.prefetch_related("domains").order_by("slug")
    filterset_class = TenantFilter
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]{1,40}"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request: Request) -> Response:
        data = TenantCreateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = tenant_create(
            slug=data.validated_data["slug"],
            name=data.validated_data["name"],
            timezone_name=data.validated_data["timezone"],
            admin_email=data.validated_data.get("admin_email"),
        )
        tenant = Tenant.objects.prefetch_related("domains").get(pk=created.tenant.pk)
        invite_url = None
        if created.admin_invitation is not None:
            invite_url = console_url(
                tenant=tenant,
                path=f"/console/invite/{created.admin_invitation.token}",
                scheme=request.scheme,
                port=request.get_port(),
            )
            admin_invitation_send(tenant=tenant, invitation=created.admin_invitation, url=invite_url)
        body: dict[str, Any] = {
            **TenantOutSerializer(tenant).data,
            "admin_key": created.admin_key,
            "admin_invite_url": invite_url,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, slug: str) -> Response:
        tenant = self.get_object()
        data = TenantPatchInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data.get("slug", tenant.slug) != tenant.slug:
            raise ValidationFailed("A tenant's slug cannot be changed.", code="immutable", attr="slug")
        # Sent (null included) or left as they are.
        optional = {
            k: v
            for k, v in data.validated_data.items()
            if k in ("rate_limit_per_minute", "industry", "benchmark")
        }
        tenant_update(
            tenant=tenant,
            actor=actor_of(request),
            name=data.validated_data.get("name"),
            timezone_name=data.validated_data.get("timezone"),
            **optional,
        )
        return Response(TenantOutSerializer(self.get_object()).data)

    def destroy(self, request: Request, slug: str) -> Response:
        tenant = self.get_object()
        query = TenantDeleteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data.get("purge") == PURGE_NOW:
            tenant_purge(tenant=tenant, actor=actor_of(request), confirm=query.validated_data.get("confirm"))
            return Response(status=status.HTTP_204_NO_CONTENT)
        tenant_suspend(tenant=tenant, actor=actor_of(request))
        return Response(TenantOutSerializer(self.get_object()).data)

    @extend_schema(
        summary="Restore a suspended tenant",
        description=(
            "The tenant is active again, with all its data: its keys, rep tokens and console work, and "
            "what its tasks skipped meanwhile (nightly scores, evaluations, webhook deliveries) is picked "
            "up by the next sweeps. 409 `tenant_not_suspended` when it is active; 404 once purged. The "
            "platform key, on the platform host only."
        ),
        request=OpenApiTypes.OBJECT,  # nothing, or {}: the hook says no fields (api/schema/hooks.py)
        responses={200: TenantOutSerializer},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str) -> Response:
        body_object(request.data or {}, allowed=())
        tenant_restore(tenant=self.get_object(), actor=actor_of(request))
        return Response(TenantOutSerializer(self.get_object()).data)
