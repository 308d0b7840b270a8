"""``/api/v1/api-keys``: a tenant's API keys (admins only)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from access.keys import api_key_create, api_key_revoke
from access.models import ApiKey, Role
from api.actors import actor_of
from api.permissions import ADMIN, key_roles
from api.v1.serializers import StrictInputSerializer
from core.errors import ValidationFailed


class ApiKeyOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at", "active"]


class ApiKeyCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    prefix = serializers.CharField()
    key = serializers.CharField(help_text="The secret key. Shown only in this answer; store it now.")
    created_at = serializers.DateTimeField()


class ApiKeyCreateInSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices)


def _include_revoked(values: list[str]) -> bool:
    """``?include_revoked=true|false``; anything else (``1``, ``yes``, twice) is a 400."""
    if not values:
        return False
    if len(values) > 1 or values[0] not in ("true", "false"):
        raise ValidationFailed("`true` or `false`.", code="invalid", attr="include_revoked")
    return values[0] == "true"


@extend_schema_view(
    list=extend_schema(
        summary="List API keys",
        description=(
            "Every key of the tenant, revoked ones included, with its role, prefix and when it was last used."
            " Never the secret. Admin keys only."
        ),
        parameters=[
            OpenApiParameter(
                "include_revoked",
                {"type": "string", "enum": ["true", "false"]},
                description="Also list revoked keys (`true`); default `false`.",
            )
        ],
    ),
    retrieve=extend_schema(
        summary="Get an API key (never its secret)",
        description="One key's name, role, prefix, creation and last use. Admin keys only.",
    ),
    create=extend_schema(
        summary="Create an API key",
        description=(
            "Makes a key with a role (`admin`, `integration` or `read`). The answer's `key` is the only time "
            "the secret is shown: store it. Admin keys only."
        ),
        request=ApiKeyCreateInSerializer,
        responses={201: ApiKeyCreatedSerializer},
    ),
    destroy=extend_schema(
        summary="Revoke an API key",
        description="Revoked keys stop working at once. The last active admin key cannot be revoked (409).",
    ),
)
@extend_schema(tags=["api-keys"])
class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [key_roles(read=ADMIN, write=ADMIN)]
    serializer_class = ApiKeyOutSerializer
    queryset = ApiKey.objects.all()

    def get_queryset(self) -> QuerySet[ApiKey]:
        queryset = ApiKey.objects.order_by("id")
        if self.action == "list" and not _include_revoked(
            self.request.query_params.getlist("include_revoked")
        ):
            queryset = queryset.filter(revoked_at__isnull=True)
        return queryset

    def create(self, request: Request) -> Response:
        data = ApiKeyCreateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = api_key_create(
            name=data.validated_data["name"], role=data.validated_data["role"], actor=actor_of(request)
        )
        key = created.key
        body = ApiKeyCreatedSerializer(
            {
                "id": key.pk,
                "name": key.name,
                "role": key.role,
                "prefix": key.prefix,
                "key": created.token,
                "created_at": key.created_at,
            }
        ).data
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        api_key_revoke(key_id=self.get_object().pk, actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
