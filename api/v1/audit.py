"""``/api/v1/audit-log``: every change to the tenant's configuration (admins only)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from access.models import AuditEntry, MemberRole, Role
from api.pagination import FeedPagination
from api.permissions import ADMIN, key_roles
from api.v1.filters import IsoDateTimeFilter

# A key's roles, then a member's that are not also a key's (admin is both).
ACTOR_ROLES = [
    *Role.choices,
    *((value, label) for value, label in MemberRole.choices if value not in Role.values),
]


class AuditActorSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=AuditEntry.ActorKind.choices,
        help_text="`key` (a tenant API key), `platform` (the operator's platform key), `member` (a console "
        "member, signed in) or `system` (no request: a management command or a task).",
    )
    key_id = serializers.IntegerField(
        allow_null=True, help_text="The API key's or platform key's id; a member's id for `member`."
    )
    prefix = serializers.CharField(help_text="The key's public prefix (never the key); empty for a member.")
    name = serializers.CharField(help_text="The key's name; a member's email.")
    role = serializers.ChoiceField(
        choices=ACTOR_ROLES,
        allow_blank=True,
        help_text="The API key's or the member's role; empty for platform and system.",
    )


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    before = serializers.JSONField(
        allow_null=True, help_text="The target before the change; null for a creation. Secrets redacted."
    )
    after = serializers.JSONField(
        allow_null=True, help_text="The target after the change; null for a deletion. Secrets redacted."
    )
    request_id = serializers.CharField(help_text="The request's `X-Request-ID`; empty outside a request.")

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "action", "target_type", "target_id", "before", "after", "request_id"]

    @extend_schema_field(AuditActorSerializer)
    def get_actor(self, entry: AuditEntry) -> dict[str, Any]:
        return {
            "kind": entry.actor_kind,
            "key_id": entry.actor_key_id,
            "prefix": entry.actor_prefix,
            "name": entry.actor_name,
            "role": entry.actor_role,
        }


class AuditEntryFilter(django_filters.FilterSet):
    target_type = django_filters.ChoiceFilter(
        choices=AuditEntry.TargetType.choices, help_text="What kind of thing changed."
    )
    target_id = django_filters.CharFilter(help_text="Its id, slug or version (with `target_type`).")
    action = django_filters.ChoiceFilter(choices=AuditEntry.Action.choices, help_text="What was done.")
    since = IsoDateTimeFilter(field_name="at", lookup_expr="gte", help_text="at >= this.")
    until = IsoDateTimeFilter(field_name="at", lookup_expr="lt", help_text="at < this.")

    class Meta:
        model = AuditEntry
        fields = ["target_type", "target_id", "action", "since", "until"]


@extend_schema_view(
    list=extend_schema(
        summary="The audit log, newest first (cursor pagination)",
        description="Every change to the scoring config, settings, badges, goals, webhooks and API keys "
        "(and the platform's changes to the tenant): who, when, what, before and after. "
        "Written in the same transaction as the change. Secrets never appear. Admin keys only.",
    )
)
@extend_schema(tags=["audit"])
class AuditLogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [key_roles(read=ADMIN, write=ADMIN)]
    serializer_class = AuditEntrySerializer
    pagination_class = FeedPagination
    filterset_class = AuditEntryFilter

    def get_queryset(self) -> QuerySet[AuditEntry]:
        return AuditEntry.objects.order_by("-id")
